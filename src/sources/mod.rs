//! Sources: where bytes come from. Each source reads its inputs (files in a tree, standard input,
//! the staged index, git history) with their type and size checked first, hands every buffer
//! with its [`Location`](crate::finding::Location) to the engine's
//! [`scan_buffer`](crate::scan::scan_buffer), and gathers the findings and a
//! [`Summary`](crate::scan::Summary) of what it read and skipped.
//!
//! For `credsweep repos`, [`repo_list`] reads the list of repositories and [`clone`] fetches
//! those named by URL into a local mirror, which the history source then reads.

pub mod clone;
pub mod history;
pub mod ignore_files;
pub mod repo_list;
pub mod staged;
pub mod tree;
