//! RFC 5545 calendar feed of shifts (implemented by the on-call helper).
