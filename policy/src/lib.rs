//! # pullgate-policy
//! (being written)
#![forbid(unsafe_code)]
