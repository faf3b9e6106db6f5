//! Sources: where bytes come from. Each source reads its inputs (files in a tree, standard input,
//! the staged index, git history) with their type and size checked first, hands every buffer
//! with its [`Location`](crate::finding::Location) to the engine's
//! [`scan_buffer`](crate::scan::scan_buffer), and gathers the findings and a
//! [`Summary`](crate::scan::Summary) of what it read and skipped.

pub mod history;
pub mod ignore_files;
pub mod staged;
pub mod tree;
