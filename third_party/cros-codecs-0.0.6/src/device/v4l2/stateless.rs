// Copyright 2024 The ChromiumOS Authors
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

pub mod controls;
pub mod device;
pub mod queue;
pub mod request;
