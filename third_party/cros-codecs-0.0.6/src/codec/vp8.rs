// Copyright 2023 The ChromiumOS Authors
// Use of this source code is governed by a BSD-style license that can be
// found in the LICENSE file.

#![warn(clippy::missing_panics_doc)]
#![warn(clippy::panic)]
#![warn(clippy::unwrap_used)]

mod bool_decoder;
pub mod parser;
mod probs;
