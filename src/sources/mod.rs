//! Sources: where bytes come from. Each source reads its inputs (files in a tree, standard input,
//! the staged index, git history), hands every buffer to [`scan_buffer`] with the path it should be
//! reported under, and gathers [`Finding`]s and a [`Summary`] of what it read and skipped.

pub mod history;
pub mod ignore_files;
pub mod staged;
pub mod tree;

// The engine's buffer scan, which every source feeds.
pub use crate::scan::{
    MAX_FINDINGS_PER_BUFFER, ScanContext, Skip, SkipReason, Summary, scan_buffer,
};
