//! Routing: which department(s) a document belongs to, from rules kept as data
//! (`config/routing.json`, deployed inside the functions and read by Terraform for the
//! per-department queues).
//!
//! A web-form document goes to its service's department; a scan goes to its drop-box site's
//! department; at a site serving several departments, the service named in the batch or cover
//! metadata decides when it is one of the site's, and the general office (kancelaria)
//! classifies the rest by hand. Anything unknown goes to the general office.
//!
//! This file is self-contained (serde and serde_json only) so that the notify function's build
//! script checks the rules with the same code: a broken rules file fails the build, and the
//! same error stops a cold start.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

/// The rules shipped with this build.
pub const BUNDLED_RULES: &str = include_str!("../../../config/routing.json");

/// A department: a stable id and its Polish name.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// Stable id (lower-case letters, digits and hyphens), used in records, queues and roles.
    pub id: String,
    /// The department's Polish name.
    pub name: String,
}

/// A drop-box site and the departments it serves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Stable id, also the scanning station's id.
    pub id: String,
    /// The street address in front of which the box stands.
    pub address: String,
    /// The departments served, in order.
    pub departments: Vec<String>,
}

/// A service and its department.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRule {
    /// The service id.
    pub id: String,
    /// The department handling it whatever the channel.
    pub department: String,
    /// The period the office has to settle it (KPA art. 35): one month when not given,
    /// `{"months": 2}` for a particularly complicated case, `{"days": n}` where a statute sets
    /// days, `"none"` for a matter without one.
    #[serde(default)]
    pub period: crate::domain::deadline::StatutoryPeriod,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    version: u32,
    general_office: String,
    departments: Vec<Department>,
    sites: Vec<Site>,
    services: Vec<ServiceRule>,
}

/// Checked routing rules.
#[derive(Debug, Clone)]
pub struct RoutingRules {
    general_office: String,
    departments: BTreeMap<String, Department>,
    sites: BTreeMap<String, Site>,
    services: BTreeMap<String, String>,
    periods: BTreeMap<String, crate::domain::deadline::StatutoryPeriod>,
}

/// Why a rules file was refused: what is wrong, and on which line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routing rules, line {line}: {message}")]
pub struct RulesError {
    /// 1-based line of the file.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Where a document comes from, as routing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A web-form upload for a service.
    Web {
        /// The service named in the upload.
        service: Option<&'a str>,
    },
    /// A scan from a drop-box site.
    DropBox {
        /// The site (station) id.
        site: Option<&'a str>,
        /// The service named in the batch or cover metadata, if any.
        service: Option<&'a str>,
    },
}

/// The department a document goes to, and the rule that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// The department id.
    pub department: String,
    /// Which rule applied, in words (kept in the notification).
    pub rule: &'static str,
}

const SUPPORTED_VERSION: u32 = 1;

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The line of a top-level key, or 1.
fn line_of(text: &str, key: &str) -> usize {
    let quoted = format!("\"{key}\"");
    text.find(&quoted).map_or(1, |at| line_at(text, at))
}

/// The line where element `index` (an object) of the top-level array `section` starts: the
/// `index`-th `{` after the section's key (the elements are flat objects).
fn line_of_element(text: &str, section: &str, index: usize) -> usize {
    let quoted = format!("\"{section}\"");
    let Some(start) = text.find(&quoted) else {
        return 1;
    };
    text[start..]
        .match_indices('{')
        .nth(index)
        .map_or_else(|| line_at(text, start), |(at, _)| line_at(text, start + at))
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|b| *b == b'\n').count() + 1
}

impl RoutingRules {
    /// The rules bundled with this build.
    pub fn bundled() -> Result<Self, RulesError> {
        Self::parse(BUNDLED_RULES)
    }

    /// Parses and checks a rules file. `catalogue` is the set of service ids the web form
    /// accepts: each must have a rule, and each rule must name one of them.
    pub fn parse_with_catalogue(text: &str, catalogue: &[&str]) -> Result<Self, RulesError> {
        let file: RulesFile = serde_json::from_str(text).map_err(|e| RulesError {
            line: e.line().max(1),
            message: e.to_string(),
        })?;
        let at = |section: &str, index: usize, message: String| RulesError {
            line: line_of_element(text, section, index),
            message,
        };
        if file.version != SUPPORTED_VERSION {
            return Err(RulesError {
                line: line_of(text, "version"),
                message: format!(
                    "version {} is not supported (this build reads version {SUPPORTED_VERSION})",
                    file.version
                ),
            });
        }
        let mut departments = BTreeMap::new();
        for (i, department) in file.departments.iter().enumerate() {
            if !valid_id(&department.id) {
                return Err(at(
                    "departments",
                    i,
                    format!(
                        "department id '{}' must be lower-case letters, digits and hyphens",
                        department.id
                    ),
                ));
            }
            if department.name.trim().is_empty() {
                return Err(at(
                    "departments",
                    i,
                    format!("department '{}' has no name", department.id),
                ));
            }
            if departments
                .insert(department.id.clone(), department.clone())
                .is_some()
            {
                return Err(at(
                    "departments",
                    i,
                    format!("department '{}' is listed twice", department.id),
                ));
            }
        }
        let known = |id: &str| departments.contains_key(id);
        if !known(&file.general_office) {
            return Err(RulesError {
                line: line_of(text, "general_office"),
                message: format!(
                    "the general office '{}' is not a listed department",
                    file.general_office
                ),
            });
        }
        let mut sites = BTreeMap::new();
        for (i, site) in file.sites.iter().enumerate() {
            if !valid_id(&site.id) {
                return Err(at(
                    "sites",
                    i,
                    format!(
                        "site id '{}' must be lower-case letters, digits and hyphens",
                        site.id
                    ),
                ));
            }
            if site.departments.is_empty() {
                return Err(at(
                    "sites",
                    i,
                    format!("site '{}' serves no department", site.id),
                ));
            }
            let mut seen = BTreeSet::new();
            for department in &site.departments {
                if !known(department) {
                    return Err(at(
                        "sites",
                        i,
                        format!(
                            "site '{}' names the unknown department '{department}'",
                            site.id
                        ),
                    ));
                }
                if !seen.insert(department) {
                    return Err(at(
                        "sites",
                        i,
                        format!("site '{}' names '{department}' twice", site.id),
                    ));
                }
            }
            if sites.insert(site.id.clone(), site.clone()).is_some() {
                return Err(at(
                    "sites",
                    i,
                    format!("site '{}' is listed twice", site.id),
                ));
            }
        }
        let mut services = BTreeMap::new();
        let mut periods = BTreeMap::new();
        for (i, rule) in file.services.iter().enumerate() {
            periods.insert(rule.id.clone(), rule.period);
            if !catalogue.contains(&rule.id.as_str()) {
                return Err(at(
                    "services",
                    i,
                    format!("service '{}' is not in the service catalogue", rule.id),
                ));
            }
            if !known(&rule.department) {
                return Err(at(
                    "services",
                    i,
                    format!(
                        "service '{}' names the unknown department '{}'",
                        rule.id, rule.department
                    ),
                ));
            }
            if services
                .insert(rule.id.clone(), rule.department.clone())
                .is_some()
            {
                return Err(at(
                    "services",
                    i,
                    format!("service '{}' is listed twice", rule.id),
                ));
            }
        }
        if let Some(missing) = catalogue.iter().find(|id| !services.contains_key(**id)) {
            return Err(RulesError {
                line: line_of(text, "services"),
                message: format!("service '{missing}' of the catalogue has no rule"),
            });
        }
        Ok(RoutingRules {
            general_office: file.general_office,
            departments,
            sites,
            services,
            periods,
        })
    }

    /// The statutory period of a service (KPA art. 35); one month for a document that names
    /// no service or an unknown one, the general rule.
    pub fn period(&self, service: Option<&str>) -> crate::domain::deadline::StatutoryPeriod {
        service
            .and_then(|s| self.periods.get(s))
            .copied()
            .unwrap_or_default()
    }

    /// Parses and checks a rules file against the web form's service catalogue.
    pub fn parse(text: &str) -> Result<Self, RulesError> {
        let catalogue: Vec<&str> = crate::domain::services::SERVICES
            .iter()
            .map(|s| s.id)
            .collect();
        Self::parse_with_catalogue(text, &catalogue)
    }

    /// Every department, by id.
    pub fn departments(&self) -> impl Iterator<Item = &Department> {
        self.departments.values()
    }

    /// A department by id.
    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.get(id)
    }

    /// A drop-box site by id (also its station's id).
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.get(id)
    }

    /// Every drop-box site.
    pub fn sites(&self) -> impl Iterator<Item = &Site> {
        self.sites.values()
    }

    /// The general office's id.
    pub fn general_office(&self) -> &str {
        &self.general_office
    }

    /// The department a document goes to.
    pub fn route(&self, origin: Origin<'_>) -> Routing {
        let general = |rule| Routing {
            department: self.general_office.clone(),
            rule,
        };
        let service_department = |service: Option<&str>| service.and_then(|s| self.services.get(s));
        match origin {
            Origin::Web { service } => match service_department(service) {
                Some(department) => Routing {
                    department: department.clone(),
                    rule: "the service's department",
                },
                None => general("unknown service: the general office classifies it"),
            },
            Origin::DropBox { site, service } => {
                let Some(site) = site.and_then(|s| self.sites.get(s)) else {
                    return general("unknown drop-box site: the general office classifies it");
                };
                match site.departments.as_slice() {
                    [only] => Routing {
                        department: only.clone(),
                        rule: "the drop-box site's department",
                    },
                    several => match service_department(service) {
                        Some(department) if several.contains(department) => Routing {
                            department: department.clone(),
                            rule: "the service named in the batch, among the site's departments",
                        },
                        _ => general(
                            "a site serving several departments and no service deciding: the general office classifies it",
                        ),
                    },
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> RoutingRules {
        RoutingRules::bundled().unwrap()
    }

    #[test]
    fn the_bundled_rules_hold_every_department_site_and_service_of_the_domain() {
        let r = rules();
        assert_eq!(r.departments().count(), 13);
        assert_eq!(r.sites().count(), 11);
        assert_eq!(r.general_office(), "kancelaria");
        assert_eq!(
            r.department("usc").map(|d| d.name.as_str()),
            Some("Urząd Stanu Cywilnego")
        );
        let several: Vec<&str> = r
            .sites()
            .filter(|s| s.departments.len() > 1)
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(several, ["os-zgody", "powstania-warszawskiego", "wielicka"]);
    }

    #[test]
    fn each_service_has_its_statutory_period_one_month_unless_configured() {
        use crate::domain::deadline::StatutoryPeriod;
        let rules = RoutingRules::bundled().expect("the bundled rules");
        assert_eq!(
            rules.period(Some("building-permit")),
            StatutoryPeriod::Days(65)
        );
        assert_eq!(
            rules.period(Some("environmental-decision")),
            StatutoryPeriod::PARTICULARLY_COMPLICATED
        );
        assert_eq!(rules.period(Some("crisis-report")), StatutoryPeriod::None);
        assert_eq!(
            rules.period(Some("child-benefit")),
            StatutoryPeriod::ONE_MONTH
        );
        assert_eq!(rules.period(None), StatutoryPeriod::ONE_MONTH);
        assert_eq!(
            rules.period(Some("no-such-service")),
            StatutoryPeriod::ONE_MONTH
        );
    }

    #[test]
    fn web_documents_go_to_their_services_department() {
        let r = rules();
        let web = |service| r.route(Origin::Web { service }).department;
        assert_eq!(web(Some("child-benefit")), "centrum-swiadczen");
        assert_eq!(web(Some("birth-registration")), "usc");
        assert_eq!(web(Some("driving-school-notice")), "pojazdy-kierowcy");
        assert_eq!(web(Some("consumer-ombudsman")), "rzecznik-konsumentow");
        assert_eq!(web(Some("no-such-service")), "kancelaria");
        // Every department can be reached by some service.
        let reached: BTreeSet<String> = crate::domain::services::SERVICES
            .iter()
            .map(|s| web(Some(s.id)))
            .collect();
        assert_eq!(reached.len(), r.departments().count());
        assert_eq!(web(None), "kancelaria");
    }

    #[test]
    fn scans_go_to_their_sites_department_and_a_shared_site_asks_the_service() {
        let r = rules();
        let scan = |site, service| r.route(Origin::DropBox { site, service }).department;
        assert_eq!(scan(Some("mogilska"), None), "architektura");
        assert_eq!(
            scan(Some("mogilska"), Some("child-benefit")),
            "architektura"
        );
        assert_eq!(
            scan(Some("wielicka"), Some("identity-card")),
            "sprawy-administracyjne"
        );
        assert_eq!(
            scan(
                Some("powstania-warszawskiego"),
                Some("driving-school-notice")
            ),
            "pojazdy-kierowcy"
        );
        assert_eq!(
            scan(Some("os-zgody"), Some("crisis-report")),
            "bezpieczenstwo"
        );
        assert_eq!(
            scan(Some("os-zgody"), Some("environmental-decision")),
            "srodowisko"
        );
        // A service of another department, or none, at a shared site: the general office.
        assert_eq!(scan(Some("os-zgody"), Some("child-benefit")), "kancelaria");
        assert_eq!(scan(Some("os-zgody"), None), "kancelaria");
        assert_eq!(scan(Some("nowhere"), Some("identity-card")), "kancelaria");
        assert_eq!(scan(None, None), "kancelaria");
    }

    fn refused(text: &str) -> RulesError {
        RoutingRules::parse_with_catalogue(text, &["a-service"]).unwrap_err()
    }

    const GOOD: &str = r#"{
  "version": 1,
  "general_office": "office",
  "departments": [
    { "id": "office", "name": "Kancelaria" },
    { "id": "tax", "name": "Wydział Skarbu" }
  ],
  "sites": [
    { "id": "site-a", "address": "ul. A", "departments": ["tax"] }
  ],
  "services": [
    { "id": "a-service", "department": "tax" }
  ]
}"#;

    #[test]
    fn a_broken_rules_file_is_refused_naming_the_line() {
        assert!(RoutingRules::parse_with_catalogue(GOOD, &["a-service"]).is_ok());
        let e = refused(&GOOD.replace(r#"["tax"] }"#, r#"["taxes"] }"#));
        assert_eq!(e.line, 9, "{e}");
        assert!(e.message.contains("unknown department 'taxes'"), "{e}");
        let e = refused(&GOOD.replace(r#""department": "tax""#, r#""department": "nobody""#));
        assert_eq!(e.line, 12, "{e}");
        let e = refused(&GOOD.replace(
            r#"{ "id": "tax", "name": "Wydział Skarbu" }"#,
            r#"{ "id": "office", "name": "Again" }"#,
        ));
        assert_eq!(e.line, 6, "{e}");
        assert!(e.message.contains("listed twice"), "{e}");
        let e = refused(&GOOD.replace(
            r#""general_office": "office""#,
            r#""general_office": "boss""#,
        ));
        assert_eq!(e.line, 3, "{e}");
        let e = refused(&GOOD.replace("\"a-service\"", "\"b-service\""));
        assert!(e.message.contains("not in the service catalogue"), "{e}");
        let e = refused(&GOOD.replace(r#"["tax"]"#, "[]"));
        assert!(e.message.contains("serves no department"), "{e}");
        let e = refused(&GOOD.replace(r#""id": "tax""#, r#""id": "Tax Office""#));
        assert!(e.message.contains("lower-case"), "{e}");
        // Malformed JSON names the line the parser stopped at.
        let e = refused(&GOOD.replace(r#""address": "ul. A","#, r#""address": "ul. A""#));
        assert_eq!(e.line, 9, "{e}");
        let e = refused(&GOOD.replace(r#""version": 1"#, r#""version": 2"#));
        assert!(e.message.contains("version 2"), "{e}");
        let e = RoutingRules::parse_with_catalogue(GOOD, &["a-service", "other"]).unwrap_err();
        assert!(
            e.message.contains("'other' of the catalogue has no rule"),
            "{e}"
        );
    }
}
