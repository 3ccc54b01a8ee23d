// Copyright 2024 The ChromiumOS Authors
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

pub mod av1;
pub mod h264;
pub mod vp8;
pub mod vp9;
