//! Number theory for OTR: the Diffie-Hellman group, DSA and SMP arithmetic.

pub mod dsa;
pub mod modp;
