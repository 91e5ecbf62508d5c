//! govcap's monitor: automated evidence collection from government portals.
//!
//! [`fetch`] is the bounded HTTP client, [`charset`] decodes pages like a browser,
//! [`robots`] holds robots.txt rules, [`warc`] archives every exchange, [`crawl`] visits one
//! site, [`browser`] renders script-built pages and confirms WAF challenges in headless
//! Chromium when it is installed, and [`run`] drives `govcap monitor run` over many sites
//! into `findings.jsonl`.

pub mod alerts;
pub mod browser;
pub mod charset;
pub mod checks;
pub mod clock;
pub mod crawl;
pub mod fetch;
pub mod model;
pub mod observations;
pub mod robots;
pub mod run;
pub mod schedule;
pub mod warc;
