//! The status view (seed 000's camelCase shape), aggregated on read.
