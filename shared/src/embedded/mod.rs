//! The embedded backend: queues and the execution store in one SQLite file.
