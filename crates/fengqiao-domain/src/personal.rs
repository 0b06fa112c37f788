//! Personal data: resident ID numbers (GB 11643), phone numbers, and masking.
