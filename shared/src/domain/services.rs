//! The electronic services a web-form upload may name.
//!
//! Routing each service to its department comes with the routing rules; here the catalogue only
//! answers whether a service exists, so that an upload for an unknown one is refused up front.

/// One electronic service offered through the web form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// Stable id used in requests and records.
    pub id: &'static str,
    /// The service's Polish name as citizens know it.
    pub name_pl: &'static str,
}

/// Every service the web form accepts: the most used services in the domain notes, one
/// typical service of each other department (so every department can be reached), and a
/// general letter for anything else, which the general office classifies.
pub const SERVICES: &[Service] = &[
    Service {
        id: "civil-status-copy",
        name_pl: "Odpis aktu stanu cywilnego",
    },
    Service {
        id: "voter-register-entry",
        name_pl: "Dopisanie do spisu wyborców",
    },
    Service {
        id: "identity-card",
        name_pl: "Wniosek o wydanie dowodu osobistego",
    },
    Service {
        id: "birth-registration",
        name_pl: "Zgłoszenie urodzenia dziecka",
    },
    Service {
        id: "child-benefit",
        name_pl: "Świadczenie wychowawcze",
    },
    Service {
        id: "driving-school-notice",
        name_pl: "Informacja ośrodka szkolenia kierowców o kursach i egzaminach",
    },
    Service {
        id: "consumer-ombudsman",
        name_pl: "Wniosek do Miejskiego Rzecznika Praw Konsumenta",
    },
    Service {
        id: "stove-replacement-grant",
        name_pl: "Wniosek o dofinansowanie wymiany pieca (program ograniczania niskiej emisji)",
    },
    Service {
        id: "building-permit",
        name_pl: "Wniosek o pozwolenie na budowę",
    },
    Service {
        id: "environmental-decision",
        name_pl: "Wniosek o wydanie decyzji o środowiskowych uwarunkowaniach",
    },
    Service {
        id: "crisis-report",
        name_pl: "Zgłoszenie do Wydziału Bezpieczeństwa i Zarządzania Kryzysowego",
    },
    Service {
        id: "local-tax-return",
        name_pl: "Deklaracja na podatek od nieruchomości",
    },
    Service {
        id: "social-assistance",
        name_pl: "Wniosek w sprawach polityki społecznej i zdrowia",
    },
    Service {
        id: "monument-works-permit",
        name_pl: "Wniosek o pozwolenie konserwatorskie na prace przy zabytku",
    },
    Service {
        id: "general-letter",
        name_pl: "Pismo ogólne",
    },
];

/// Looks a service up by id.
pub fn find(id: &str) -> Option<&'static Service> {
    SERVICES.iter().find(|s| s.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found() {
        for (i, s) in SERVICES.iter().enumerate() {
            assert_eq!(find(s.id).map(|f| f.id), Some(s.id));
            assert!(SERVICES[i + 1..].iter().all(|o| o.id != s.id));
        }
        assert!(find("no-such-service").is_none());
    }
}
