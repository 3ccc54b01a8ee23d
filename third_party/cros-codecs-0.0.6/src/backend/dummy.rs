// Copyright 2023 The ChromiumOS Authors
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

//! This file contains a dummy backends whose only purpose is to let the codec
//! run so we can test it in isolation.

pub(crate) mod decoder;
