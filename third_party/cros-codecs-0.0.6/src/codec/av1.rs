// Copyright 2023 The ChromiumOS Authors
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

mod helpers;
pub mod parser;
pub mod reader;
pub mod synthesizer;
pub mod writer;
