//! Parsers for every inbound alert format, each into `AlertSignal`s.
