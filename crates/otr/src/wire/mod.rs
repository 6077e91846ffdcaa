//! The OTR wire format (owned by the wire-codec work in progress).
