//! Alert routing rules: label matchers, silences, inhibition, grouping and severity mapping.
