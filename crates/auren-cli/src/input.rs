//! Reading recordings: RR files, CSV exports, Kubios RR text and .hrmcap captures.
