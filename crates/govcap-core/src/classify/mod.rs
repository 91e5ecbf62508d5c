//! Classification of scores into tiers and sub-levels.
