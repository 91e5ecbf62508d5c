//! Evaluation units: the governments (or counties, or countries) being scored.
//!
//! A unit carries a few named fields the analyses rely on (province, region) and a free map of
//! attributes so that any extra column of a unit list (population, area, a custom grouping) can
//! be used for denomination or grouping without code changes.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

/// One evaluated government.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Stable identifier, e.g. the 6-digit GB/T 2260 code `510100`.
    pub code: String,
    /// Name in the report's first language (Chinese for the default units).
    pub name: String,
    /// English name; falls back to `name` when a unit list has none.
    pub name_en: String,
    /// Province (or any first grouping level) used for within-province ranks and disparity.
    pub province: Option<String>,
    /// Region class (the NBS four regions 东部/中部/西部/东北 for the default units).
    pub region: Option<String>,
    /// Every other column of the unit list, verbatim.
    pub attrs: BTreeMap<String, String>,
}

impl Unit {
    /// Looks up an attribute by column name, including the named fields, so that grouping
    /// and denomination can refer to any column of the unit list the same way.
    pub fn attr(&self, key: &str) -> Option<&str> {
        match key {
            "code" => Some(&self.code),
            "name" => Some(&self.name),
            "name_en" => Some(&self.name_en),
            "province" => self.province.as_deref(),
            "region" | "region4" => self.region.as_deref(),
            _ => self.attrs.get(key).map(String::as_str),
        }
    }

    /// A numeric attribute (for denomination), or `None` when absent or not a number.
    pub fn number(&self, key: &str) -> Option<f64> {
        self.attr(key).and_then(|v| v.trim().parse::<f64>().ok())
    }

    /// True when a 0/1 flag column (e.g. `sub_provincial`) is set.
    pub fn flag(&self, key: &str) -> bool {
        matches!(
            self.attr(key).map(str::trim),
            Some("1" | "true" | "是" | "yes")
        )
    }
}

/// An ordered list of units with lookup by code. Order is the list's order and is kept
/// everywhere (results, exports) so that outputs are byte-stable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitSet {
    units: Vec<Unit>,
    index: HashMap<String, usize>,
}

/// A unit list that cannot be used as given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitSetError {
    #[error("unit code {code:?} appears twice (entries {first} and {second})")]
    DuplicateCode {
        code: String,
        first: usize,
        second: usize,
    },
    #[error("unit entry {index} has an empty code")]
    EmptyCode { index: usize },
}

impl UnitSet {
    /// Builds the set, refusing duplicate or empty codes.
    pub fn new(units: Vec<Unit>) -> Result<Self, UnitSetError> {
        let mut index = HashMap::with_capacity(units.len());
        for (i, u) in units.iter().enumerate() {
            if u.code.trim().is_empty() {
                return Err(UnitSetError::EmptyCode { index: i + 1 });
            }
            if let Some(first) = index.insert(u.code.clone(), i) {
                return Err(UnitSetError::DuplicateCode {
                    code: u.code.clone(),
                    first: first + 1,
                    second: i + 1,
                });
            }
        }
        Ok(Self { units, index })
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    pub fn get(&self, code: &str) -> Option<&Unit> {
        self.index.get(code).map(|&i| &self.units[i])
    }

    /// Position of a unit in the set's order.
    pub fn position(&self, code: &str) -> Option<usize> {
        self.index.get(code).copied()
    }

    /// The value of one attribute for every unit, in order (for grouping).
    pub fn column(&self, key: &str) -> Vec<Option<&str>> {
        self.units.iter().map(|u| u.attr(key)).collect()
    }
}
