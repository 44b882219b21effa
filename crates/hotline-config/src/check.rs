//! From the file as written (`raw`) to the typed [`crate::Config`]: every value checked, every cross-reference
//! resolved, every error located as `FILE:LINE: KEY: why`.

use super::*;

mod emergency;
mod routing;

pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a str,
    pub(crate) loc: &'a Locator<'a>,
}

type R<T> = Result<T, ConfigError>;

impl Ctx<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line: self.loc.line_of(key),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn positive(&self, key: &str, v: Option<i64>, default: u64) -> R<u64> {
        match v {
            None => Ok(default),
            Some(n) if n > 0 => Ok(n as u64),
            Some(_) => Err(self.err(key, "must be a positive integer")),
        }
    }

    fn non_negative(&self, key: &str, v: Option<i64>, default: u64) -> R<u64> {
        match v {
            None => Ok(default),
            Some(n) if n >= 0 => Ok(n as u64),
            Some(_) => Err(self.err(key, "must not be negative")),
        }
    }

    fn non_empty(&self, key: &str, v: Option<String>, default: &str) -> R<String> {
        let v = v.unwrap_or_else(|| default.to_string());
        if v.trim().is_empty() {
            return Err(self.err(key, "must not be empty"));
        }
        Ok(v)
    }

    pub(crate) fn convert(&self, raw: RawConfig) -> R<Config> {
        let sip = self.sip(raw.sip)?;
        let media = self.media(raw.media)?;
        let http = self.http(raw.http)?;
        let database = self.database(raw.database)?;
        let sounds = self.sounds(raw.sounds)?;
        let menu_names: Vec<&str> = raw.menus.keys().map(String::as_str).collect();
        let queues = self.queues(raw.queues, &menu_names)?;
        let lines = self.lines(raw.lines, &queues, &menu_names)?;
        let menus = self.menus(&raw.menus, &queues)?;
        let agents = self.agents(raw.agents, &queues, &lines)?;
        self.reachable(&queues, &agents)?;
        let trunks = self.trunks(raw.trunks, &lines)?;
        let caller_priority = self.caller_priority(raw.caller_priority)?;
        let emergency = self.emergency(raw.emergency)?;
        let sos = self.sos(raw.sos, &lines, &queues, &emergency, &trunks)?;
        let routing = self.routing(raw.routing)?;
        let shutdown_grace_secs =
            self.non_negative("shutdown_grace_secs", raw.shutdown_grace_secs, 30)?;
        Ok(Config {
            sip,
            media,
            http,
            database,
            sounds,
            lines,
            queues,
            agents,
            menus,
            trunks,
            caller_priority,
            emergency,
            sos,
            routing,
            shutdown_grace_secs,
        })
    }

    /// `v` (already checked for sign) as a u32.
    fn u32(&self, key: &str, v: u64) -> R<u32> {
        u32::try_from(v).map_err(|_| self.err(key, "is too large"))
    }

    fn i32(&self, key: &str, v: i64) -> R<i32> {
        i32::try_from(v).map_err(|_| self.err(key, "is out of range"))
    }

    /// A prompt name: `sounds/<language>/<name>.wav`, so not empty and not a path.
    fn prompt(&self, key: &str, v: Option<String>, default: &str) -> R<String> {
        let v = self.non_empty(key, v, default)?;
        if v.contains(['/', '\\']) || v.starts_with('.') {
            return Err(self.err(key, "must be a prompt name, not a path"));
        }
        Ok(v)
    }

    /// An IVR action; `queue:` targets must be defined queues and `play:` prompts prompt names. `menu:` targets
    /// are left to [`Menus::validate`] (menus) or checked by the caller (`on_max_wait`).
    fn action(&self, key: &str, text: &str, queues: &[QueueConfig]) -> R<Action> {
        let action: Action = text
            .parse()
            .map_err(|e: hotline_ivr::ParseActionError| self.err(key, e.to_string()))?;
        match &action {
            Action::Queue(q) if !queues.iter().any(|x| &x.name == q) => {
                Err(self.err(key, unknown("queue", q, queues.iter().map(|x| &x.name))))
            }
            Action::Play(p) => {
                self.prompt(key, Some(p.clone()), "")?;
                Ok(action)
            }
            _ => Ok(action),
        }
    }

    fn sip(&self, raw: raw::RawSip) -> R<SipConfig> {
        let d = SipConfig::default();
        let listen = match raw.listen {
            None => d.listen,
            Some(list) => {
                if list.is_empty() {
                    return Err(self.err("sip.listen", "needs at least one address"));
                }
                let mut out = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let key = format!("sip.listen[{i}]");
                    let addr: ListenAddr = s.parse().map_err(|e: String| self.err(&key, e))?;
                    if out.contains(&addr) {
                        return Err(self.err(&key, format!("`{s}` is listed twice")));
                    }
                    out.push(addr);
                }
                out
            }
        };
        let domain = self.non_empty("sip.domain", raw.domain, &d.domain)?;
        let trunks = match raw.trunks {
            None => d.trunks,
            Some(list) => {
                let mut out = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let net = s
                        .parse::<IpNet>()
                        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            self.err(
                                &format!("sip.trunks[{i}]"),
                                format!("`{s}` is not a CIDR such as 10.0.0.0/8 or an IP address"),
                            )
                        })?;
                    out.push(net.trunc());
                }
                out
            }
        };
        let t1_ms = self.positive("sip.t1_ms", raw.t1_ms, d.t1_ms)?;
        let t2_ms = self.positive("sip.t2_ms", raw.t2_ms, d.t2_ms)?;
        let t4_ms = self.positive("sip.t4_ms", raw.t4_ms, d.t4_ms)?;
        if t2_ms < t1_ms {
            return Err(self.err("sip.t2_ms", "must not be less than t1_ms"));
        }
        let nonce_ttl_secs =
            self.positive("sip.nonce_ttl_secs", raw.nonce_ttl_secs, d.nonce_ttl_secs)?;
        let digest_algorithms = match raw.digest_algorithms {
            None => d.digest_algorithms,
            Some(list) => {
                if list.is_empty() {
                    return Err(self.err("sip.digest_algorithms", "needs at least one algorithm"));
                }
                let mut out = Vec::new();
                for (i, s) in list.iter().enumerate() {
                    let key = format!("sip.digest_algorithms[{i}]");
                    let alg = match s.to_ascii_uppercase().as_str() {
                        "MD5" => DigestAlgorithm::Md5,
                        "SHA-256" => DigestAlgorithm::Sha256,
                        _ => return Err(self.err(&key, format!("`{s}` is not MD5 or SHA-256"))),
                    };
                    if out.contains(&alg) {
                        return Err(self.err(&key, format!("`{s}` is listed twice")));
                    }
                    out.push(alg);
                }
                out
            }
        };
        let md5_only_user_agents = raw.md5_only_user_agents.unwrap_or(d.md5_only_user_agents);
        let expires = |key: &str, v: Option<i64>, default: u32| -> R<u32> {
            let n = self.positive(key, v, u64::from(default))?;
            u32::try_from(n).map_err(|_| self.err(key, "is too large"))
        };
        let register_min_expires = expires(
            "sip.register_min_expires",
            raw.register_min_expires,
            d.register_min_expires,
        )?;
        let register_max_expires = expires(
            "sip.register_max_expires",
            raw.register_max_expires,
            d.register_max_expires,
        )?;
        if register_max_expires < register_min_expires {
            return Err(self.err(
                "sip.register_max_expires",
                "must not be less than register_min_expires",
            ));
        }
        let options_keepalive_secs = self.non_negative(
            "sip.options_keepalive_secs",
            raw.options_keepalive_secs,
            d.options_keepalive_secs,
        )?;
        Ok(SipConfig {
            listen,
            domain,
            trunks,
            t1_ms,
            t2_ms,
            t4_ms,
            nonce_ttl_secs,
            digest_algorithms,
            md5_only_user_agents,
            register_min_expires,
            register_max_expires,
            options_keepalive_secs,
        })
    }

    fn media(&self, raw: raw::RawMedia) -> R<MediaConfig> {
        let d = MediaConfig::default();
        let ip = match raw.ip {
            None => d.ip,
            Some(s) => {
                let ip: IpAddr = s
                    .parse()
                    .map_err(|_| self.err("media.ip", format!("`{s}` is not an IP address")))?;
                // SDP must carry an address the far end can send to.
                if ip.is_unspecified() {
                    return Err(
                        self.err("media.ip", "must be a concrete address, not 0.0.0.0 or ::")
                    );
                }
                ip
            }
        };
        let rtp_ports = match raw.rtp_ports {
            None => d.rtp_ports,
            Some(v) => {
                let [min, max] = v[..] else {
                    return Err(self.err("media.rtp_ports", "must be [min, max]"));
                };
                let port = |i: usize, p: i64| -> R<u16> {
                    u16::try_from(p).ok().filter(|&p| p > 0).ok_or_else(|| {
                        self.err(
                            &format!("media.rtp_ports[{i}]"),
                            "must be a port between 1 and 65535",
                        )
                    })
                };
                let (min, max) = (port(0, min)?, port(1, max)?);
                if min >= max {
                    return Err(self.err(
                        "media.rtp_ports",
                        "min must be less than max (at least 2 ports)",
                    ));
                }
                [min, max]
            }
        };
        let rtp_timeout_secs = self.positive(
            "media.rtp_timeout_secs",
            raw.rtp_timeout_secs,
            d.rtp_timeout_secs,
        )?;
        let recordings_dir = match raw.recordings_dir {
            None => d.recordings_dir,
            Some(s) if s.trim().is_empty() => {
                return Err(self.err("media.recordings_dir", "must not be empty"))
            }
            Some(s) => PathBuf::from(s),
        };
        Ok(MediaConfig {
            ip,
            rtp_ports,
            rtp_timeout_secs,
            record: raw.record.unwrap_or(d.record),
            recordings_dir,
        })
    }

    fn http(&self, raw: raw::RawHttp) -> R<HttpConfig> {
        let d = HttpConfig::default();
        let listen = match raw.listen {
            None => d.listen,
            Some(s) => s
                .parse()
                .map_err(|_| self.err("http.listen", format!("`{s}` is not IP:PORT")))?,
        };
        let admin_token = self.non_empty("http.admin_token", raw.admin_token, &d.admin_token)?;
        Ok(HttpConfig {
            listen,
            admin_token,
        })
    }

    fn database(&self, raw: raw::RawDatabase) -> R<DatabaseConfig> {
        let d = DatabaseConfig::default();
        let url = raw.url.unwrap_or(d.url);
        let ok = url == "sqlite::memory:"
            || ["sqlite://", "postgres://", "postgresql://"]
                .iter()
                .any(|p| url.len() > p.len() && url.starts_with(p));
        if !ok {
            return Err(self.err(
                "database.url",
                format!("`{url}` must start with sqlite:// or postgres:// (postgresql://)"),
            ));
        }
        Ok(DatabaseConfig { url })
    }

    fn sounds(&self, raw: raw::RawSounds) -> R<SoundsConfig> {
        let d = SoundsConfig::default();
        let dir = match raw.dir {
            None => d.dir,
            Some(s) if s.trim().is_empty() => {
                return Err(self.err("sounds.dir", "must not be empty"))
            }
            Some(s) => PathBuf::from(s),
        };
        let language = raw.language.unwrap_or(d.language);
        if language != "zh" && language != "en" {
            return Err(self.err("sounds.language", format!("`{language}` is not zh or en")));
        }
        Ok(SoundsConfig { dir, language })
    }

    fn queues(&self, raw: Vec<raw::RawQueue>, menu_names: &[&str]) -> R<Vec<QueueConfig>> {
        if raw.is_empty() {
            return Err(self.err("queues", "at least one [[queues]] is required"));
        }
        let mut out: Vec<QueueConfig> = Vec::new();
        // on_max_wait is parsed once every queue name is known.
        let mut on_max_wait: Vec<Option<String>> = Vec::new();
        for (i, q) in raw.into_iter().enumerate() {
            let key = |k: &str| format!("queues[{i}].{k}");
            let name = self.non_empty(&key("name"), Some(q.name), "")?;
            if out.iter().any(|o| o.name == name) {
                return Err(self.err(&key("name"), format!("queue `{name}` is defined twice")));
            }
            let ring_timeout_secs =
                self.positive(&key("ring_timeout_secs"), q.ring_timeout_secs, 15)?;
            let wrap_up_secs = self.non_negative(&key("wrap_up_secs"), q.wrap_up_secs, 5)?;
            let strategy = match q.strategy {
                None => Strategy::default(),
                Some(s) => s.parse().map_err(|e: hotline_acd::UnknownStrategy| {
                    self.err(&key("strategy"), e.to_string())
                })?,
            };
            let max_no_answer = self.non_negative(&key("max_no_answer"), q.max_no_answer, 3)?;
            let max_no_answer = self.u32(&key("max_no_answer"), max_no_answer)?;
            let announce_every_secs =
                self.non_negative(&key("announce_every_secs"), q.announce_every_secs, 30)?;
            let max_wait_secs = self.non_negative(&key("max_wait_secs"), q.max_wait_secs, 600)?;
            let callback_key = match q.callback_key.as_deref() {
                None => Some('1'),
                Some("") => None,
                Some(k) => {
                    let mut chars = k.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) if DTMF_KEYS.contains(c) => Some(c),
                        _ => {
                            return Err(self.err(
                                &key("callback_key"),
                                format!("`{k}` is not one DTMF key (0-9, * or #); \"\" turns the callback offer off"),
                            ))
                        }
                    }
                }
            };
            let tier_escalate_secs =
                self.non_negative(&key("tier_escalate_secs"), q.tier_escalate_secs, 30)?;
            let skills = self.skill_list(&key("skills"), q.skills.unwrap_or_default())?;
            on_max_wait.push(q.on_max_wait);
            out.push(QueueConfig {
                name,
                ring_timeout_secs,
                wrap_up_secs,
                strategy,
                max_no_answer,
                announce_every_secs,
                max_wait_secs,
                on_max_wait: Action::Callback,
                callback_key,
                tier_escalate_secs,
                skills,
            });
        }
        for (i, text) in on_max_wait.into_iter().enumerate() {
            let Some(text) = text else { continue };
            let key = format!("queues[{i}].on_max_wait");
            let action = self.action(&key, &text, &out)?;
            match &action {
                Action::Play(_) | Action::Repeat => {
                    return Err(self.err(
                        &key,
                        format!("`{action}` cannot end a wait: use callback, queue:NAME, menu:NAME or hangup"),
                    ))
                }
                Action::Queue(q) if *q == out[i].name => {
                    return Err(self.err(&key, "must not be the queue itself (use callback, hangup, another queue or a menu)"))
                }
                Action::Menu(m) if !menu_names.contains(&m.as_str()) => {
                    return Err(self.err(&key, unknown("menu", m, menu_names)));
                }
                _ => {}
            }
            out[i].on_max_wait = action;
        }
        self.max_wait_loops(&out)?;
        Ok(out)
    }

    /// `on_max_wait = "queue:B"` in A and `"queue:A"` in B would pass a caller back and forth for ever.
    fn max_wait_loops(&self, queues: &[QueueConfig]) -> R<()> {
        let next = |q: &QueueConfig| -> Option<usize> {
            match &q.on_max_wait {
                Action::Queue(t) if q.max_wait_secs > 0 => queues.iter().position(|x| &x.name == t),
                _ => None,
            }
        };
        for (i, q) in queues.iter().enumerate() {
            let mut chain = vec![i];
            let mut at = q;
            while let Some(j) = next(at) {
                let looped = chain.contains(&j);
                chain.push(j);
                if looped {
                    if j != i {
                        break; // a loop further down the chain; reported from one of its own queues
                    }
                    let names: Vec<&str> = chain.iter().map(|&k| queues[k].name.as_str()).collect();
                    return Err(self.err(
                        &format!("queues[{i}].on_max_wait"),
                        format!(
                            "callers would be passed round in a loop ({}); end the chain with callback, hangup or a menu",
                            names.join(" -> ")
                        ),
                    ));
                }
                at = &queues[j];
            }
        }
        Ok(())
    }

    /// A queue's required `skills`: names, no repeats.
    fn skill_list(&self, key: &str, list: Vec<String>) -> R<Vec<String>> {
        for (j, s) in list.iter().enumerate() {
            let k = format!("{key}[{j}]");
            if !is_name(s) {
                return Err(self.err(
                    &k,
                    format!("`{s}` is not a skill name (letters, digits, - and _)"),
                ));
            }
            if list[..j].contains(s) {
                return Err(self.err(&k, format!("`{s}` is listed twice")));
            }
        }
        Ok(list)
    }

    fn lines(
        &self,
        raw: Vec<raw::RawLine>,
        queues: &[QueueConfig],
        menu_names: &[&str],
    ) -> R<Vec<LineConfig>> {
        if raw.is_empty() {
            return Err(self.err("lines", "at least one [[lines]] is required"));
        }
        let mut out: Vec<LineConfig> = Vec::new();
        for (i, l) in raw.into_iter().enumerate() {
            let key = |k: &str| format!("lines[{i}].{k}");
            let number = self.non_empty(&key("number"), Some(l.number), "")?;
            if !is_sip_user(&number) {
                return Err(self.err(
                    &key("number"),
                    format!("`{number}` is not a valid SIP user part"),
                ));
            }
            if out.iter().any(|o| o.number == number) {
                return Err(self.err(&key("number"), format!("line `{number}` is defined twice")));
            }
            let name = self.non_empty(&key("name"), l.name, &number)?;
            let greeting = self.prompt(&key("greeting"), l.greeting, "welcome")?;
            if let Some(m) = &l.menu {
                if !menu_names.contains(&m.as_str()) {
                    return Err(self.err(&key("menu"), unknown("menu", m, menu_names)));
                }
            }
            let queue = l.queue;
            if !queues.iter().any(|q| q.name == queue) {
                return Err(self.err(
                    &key("queue"),
                    unknown("queue", &queue, queues.iter().map(|q| &q.name)),
                ));
            }
            let priority = match l.priority {
                None => 0,
                Some(p) => self.i32(&key("priority"), p)?,
            };
            let kind = match l.kind.as_deref() {
                None | Some("normal") => LineKind::Normal,
                Some("sos") => LineKind::Sos,
                Some(k) => {
                    return Err(self.err(&key("kind"), format!("`{k}` is not normal or sos")))
                }
            };
            out.push(LineConfig {
                number,
                name,
                greeting,
                menu: l.menu,
                queue,
                priority,
                kind,
            });
        }
        Ok(out)
    }

    fn agents(
        &self,
        raw: Vec<raw::RawAgent>,
        queues: &[QueueConfig],
        lines: &[LineConfig],
    ) -> R<Vec<AgentConfig>> {
        if raw.is_empty() {
            return Err(self.err("agents", "at least one [[agents]] is required"));
        }
        let mut out: Vec<AgentConfig> = Vec::new();
        let mut seen = HashSet::new();
        for (i, a) in raw.into_iter().enumerate() {
            let key = |k: &str| format!("agents[{i}].{k}");
            let id = self.non_empty(&key("id"), Some(a.id), "")?;
            if !is_sip_user(&id) {
                return Err(self.err(&key("id"), format!("`{id}` is not a valid SIP user name")));
            }
            if !seen.insert(id.clone()) {
                return Err(self.err(&key("id"), format!("agent `{id}` is defined twice")));
            }
            // A dialled number must mean one thing: a line or an extension.
            if lines.iter().any(|l| l.number == id) {
                return Err(self.err(&key("id"), format!("`{id}` is also a line number")));
            }
            let password = self.non_empty(&key("password"), Some(a.password), "")?;
            let name = self.non_empty(&key("name"), a.name, &id)?;
            let mut memberships: Vec<QueueMembership> = Vec::new();
            for (j, m) in a.queues.into_iter().enumerate() {
                let at = format!("agents[{i}].queues[{j}]");
                let (name, name_key, tier) = match m {
                    raw::RawMembership::Name(n) => (n, at.clone(), 1),
                    raw::RawMembership::Tiered(t) => {
                        let tier_key = format!("{at}.tier");
                        let tier = match t.tier {
                            None => 1,
                            Some(n) if n >= 1 => self.u32(&tier_key, n as u64)?,
                            Some(_) => {
                                return Err(self.err(
                                    &tier_key,
                                    "must be 1 or more (tier 1 is offered calls first)",
                                ))
                            }
                        };
                        (t.name, format!("{at}.name"), tier)
                    }
                };
                if !queues.iter().any(|x| x.name == name) {
                    return Err(self.err(
                        &name_key,
                        unknown("queue", &name, queues.iter().map(|q| &q.name)),
                    ));
                }
                if memberships.iter().any(|x| x.name == name) {
                    return Err(self.err(&name_key, format!("queue `{name}` is listed twice")));
                }
                memberships.push(QueueMembership { name, tier });
            }
            let mut skills = BTreeMap::new();
            for (skill, level) in a.skills {
                let k = format!("agents[{i}].skills.{skill}");
                if !is_name(&skill) {
                    return Err(self.err(
                        &k,
                        format!("`{skill}` is not a skill name (letters, digits, - and _)"),
                    ));
                }
                let level = u32::try_from(level)
                    .ok()
                    .filter(|l| (1..=MAX_SKILL_LEVEL).contains(l))
                    .ok_or_else(|| {
                        self.err(
                            &k,
                            format!("level must be 1 to {MAX_SKILL_LEVEL} (higher is better)"),
                        )
                    })?;
                skills.insert(skill, level);
            }
            let initial_status = match a.initial_status.as_deref() {
                None | Some("available") => InitialStatus::Available,
                Some("break") => InitialStatus::Break,
                Some("logged_out") => InitialStatus::LoggedOut,
                Some(s) => {
                    return Err(self.err(
                        &key("initial_status"),
                        format!("`{s}` is not available, break or logged_out"),
                    ))
                }
            };
            let role = match a.role.as_deref() {
                None | Some("agent") => AgentRole::Agent,
                Some("supervisor") => AgentRole::Supervisor,
                Some(r) => {
                    return Err(self.err(&key("role"), format!("`{r}` is not agent or supervisor")))
                }
            };
            out.push(AgentConfig {
                id,
                password,
                name,
                queues: memberships,
                skills,
                initial_status,
                role,
            });
        }
        Ok(out)
    }

    fn menus(&self, raw: &BTreeMap<String, raw::RawMenu>, queues: &[QueueConfig]) -> R<Menus> {
        let mut menus = Menus::new();
        for (name, m) in raw {
            let key = |k: &str| format!("menus.{name}.{k}");
            if !is_name(name) {
                return Err(self.err(
                    &format!("menus.{name}"),
                    format!("`{name}` is not a menu name (letters, digits, - and _)"),
                ));
            }
            let prompt = self.prompt(&key("prompt"), Some(m.prompt.clone()), "")?;
            let timeout_secs = self.positive(&key("timeout_secs"), m.timeout_secs, 5)?;
            let retries = self.non_negative(&key("retries"), m.retries, 2)?;
            let retries = self.u32(&key("retries"), retries)?;
            if m.options.is_empty() {
                return Err(self.err(&key("options"), "a menu needs at least one option"));
            }
            let mut options = BTreeMap::new();
            for (digit, text) in &m.options {
                let k = key(&format!("options.{digit}"));
                let mut chars = digit.chars();
                let d = match (chars.next(), chars.next()) {
                    (Some(c), None) if DTMF_KEYS.contains(c) => c,
                    _ => {
                        return Err(self.err(
                            &k,
                            format!("option key `{digit}` is not a single DTMF key (0-9, * or #)"),
                        ))
                    }
                };
                options.insert(d, self.action(&k, text, queues)?);
            }
            let on_timeout = self.action(&key("on_timeout"), &m.on_timeout, queues)?;
            let on_invalid = match &m.on_invalid {
                None => Action::Repeat,
                Some(t) => self.action(&key("on_invalid"), t, queues)?,
            };
            menus.insert(Menu {
                name: name.clone(),
                prompt,
                timeout: Duration::from_secs(timeout_secs),
                retries,
                options,
                on_timeout,
                on_invalid,
            });
        }
        if let Err(errs) = menus.validate() {
            // Report the first problem in file order (validate never fails without naming one).
            if let Some(err) = errs
                .iter()
                .map(|e| self.menu_error(e, &menus))
                .min_by_key(|e| e.line)
            {
                return Err(err);
            }
        }
        Ok(menus)
    }

    fn menu_error(&self, e: &MenuError, menus: &Menus) -> ConfigError {
        let key = |menu: &str, k: &str| format!("menus.{menu}.{k}");
        match e {
            MenuError::UnknownMenu(m) => self.err(&format!("menus.{m}"), e.to_string()),
            MenuError::UnknownTarget {
                menu,
                place,
                target,
            } => {
                let k = match place.strip_prefix("option ") {
                    Some(d) => key(menu, &format!("options.{d}")),
                    None => key(menu, place),
                };
                self.err(&k, unknown("menu", target, menus.iter().map(|m| &m.name)))
            }
            MenuError::BadDigit { menu, digit } => self.err(
                &key(menu, &format!("options.{digit}")),
                format!("option key `{digit}` is not a single DTMF key (0-9, * or #)"),
            ),
            MenuError::TooManyRetries { menu, .. } => self.err(
                &key(menu, "retries"),
                format!("must be at most {}", hotline_ivr::menu::MAX_RETRIES),
            ),
            MenuError::BadTimeout { menu } => self.err(
                &key(menu, "timeout_secs"),
                format!(
                    "must be 1 to {} seconds",
                    hotline_ivr::menu::MAX_TIMEOUT.as_secs()
                ),
            ),
            MenuError::EmptyPrompt { menu } => self.err(&key(menu, "prompt"), "must not be empty"),
            MenuError::EmptyPlay { menu } => self.err(
                &format!("menus.{menu}"),
                "a `play:` action has no prompt name",
            ),
        }
    }

    /// A queue that requires skills none of its members holds could never be answered: its callers would only
    /// ever leave by `on_max_wait` or by hanging up. That is a configuration mistake, so it is an error, not a
    /// warning (a warning at start-up scrolls away; an unanswerable 12345 queue must not go live).
    fn reachable(&self, queues: &[QueueConfig], agents: &[AgentConfig]) -> R<()> {
        for (i, q) in queues.iter().enumerate() {
            if q.skills.is_empty() {
                continue;
            }
            let members: Vec<&AgentConfig> = agents
                .iter()
                .filter(|a| a.tier_in(&q.name).is_some())
                .collect();
            if !members.iter().any(|a| a.has_skills(&q.skills)) {
                let why = if members.is_empty() {
                    "the queue has no member agents".to_string()
                } else {
                    format!(
                        "none of its agents ({}) holds all of them",
                        members
                            .iter()
                            .map(|a| a.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(self.err(
                    &format!("queues[{i}].skills"),
                    format!(
                        "no agent could answer this queue: it requires {} and {why}",
                        q.skills.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn trunks(&self, raw: raw::RawTrunks, lines: &[LineConfig]) -> R<TrunksConfig> {
        let Some(o) = raw.outbound else {
            return Ok(TrunksConfig::default());
        };
        let key = "trunks.outbound.uri";
        let ok = o
            .uri
            .trim()
            .parse::<hotline_sip::SipUri>()
            .is_ok_and(|u| u.is_sip() && !u.host.is_empty());
        if !ok || o.uri.trim() != o.uri {
            return Err(self.err(
                key,
                format!(
                    "`{}` is not a sip: or sips: URI with a host, e.g. sip:gateway.example.net:5060",
                    o.uri
                ),
            ));
        }
        let caller_id = match o.caller_id {
            None => lines[0].number.clone(),
            Some(c) => {
                if !is_sip_user(&c) {
                    return Err(self.err(
                        "trunks.outbound.caller_id",
                        format!("`{c}` is not a valid SIP user part"),
                    ));
                }
                c
            }
        };
        Ok(TrunksConfig {
            outbound: Some(OutboundTrunk {
                uri: o.uri,
                caller_id: Some(caller_id),
            }),
        })
    }

    fn caller_priority(&self, raw: BTreeMap<String, i64>) -> R<BTreeMap<String, i32>> {
        let mut out = BTreeMap::new();
        for (number, p) in raw {
            let key = format!("caller_priority.{number}");
            if !is_sip_user(&number) {
                return Err(self.err(&key, format!("`{number}` is not a caller number")));
            }
            out.insert(number, self.i32(&key, p)?);
        }
        Ok(out)
    }
}

/// "no queue named `x` (defined: a, b)".
fn unknown<S: AsRef<str>>(kind: &str, name: &str, known: impl IntoIterator<Item = S>) -> String {
    let known: Vec<String> = known.into_iter().map(|s| s.as_ref().to_string()).collect();
    if known.is_empty() {
        format!("no {kind} named `{name}` (none is defined)")
    } else {
        format!("no {kind} named `{name}` (defined: {})", known.join(", "))
    }
}

/// Menu and skill names: they appear in key paths and after `menu:`, so no dots, spaces or colons.
fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// Characters that can stand unescaped in a SIP URI user part and in a Digest username, minus the ones that would
/// be confusing in a dial plan.
fn is_sip_user(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.!~*+#".contains(c))
}
