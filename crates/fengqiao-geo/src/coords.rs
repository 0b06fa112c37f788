//! Conversions between WGS-84, GCJ-02 and BD-09.
