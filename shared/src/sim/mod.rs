//! The DRS/EC2/SSM simulator, driven by a scenario file.
