//! Dev-only support for simulations (being written).
