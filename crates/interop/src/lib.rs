//! Interop support for padlock-otr: the `otr-peer` program's pieces (command
//! arguments, key files) and, for the tests, a driver that pairs peer
//! processes of different implementations.

pub mod args;
pub mod driver;
pub mod keyfile;
