//! Message templates (minijinja), per kind and audience class, overridable
//! per severity, with built-in defaults that carry the seeds' templates.
//!
//! Every template is checked when it is loaded: it must compile, use only
//! the variables of [`MessageContext`] (even in a branch a sample would not
//! take), and render a sample with every variable set. So a playbook with a
//! typo such as `{{ incident.titel }}` is refused with the template's name
//! and line, rather than sending broken messages during an incident.
//!
//! Subjects and text bodies are not escaped; HTML bodies are (`{{ x }}`
//! writes `&lt;` for `<`). A subject is one line: newlines in it become spaces.

mod builtin;
mod context;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::{Arc, OnceLock};

use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior};
use serde::{Deserialize, Serialize};

pub use context::{
    format_local, format_utc, in_words, ContactVars, EscalationVars, IncidentVars, MessageContext,
    NextUpdateVars, UpdateVars,
};

use super::{AudienceClass, MessageKind};

/// One template: a subject, a text body and optionally an HTML body, for a
/// kind of message, optionally only for one audience class and/or one severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateDef {
    pub kind: MessageKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<AudienceClass>,
    /// A severity name (`SEV-1`); case is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    pub subject: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
}

impl TemplateDef {
    /// `status_update`, `status_update/stakeholders`, `status_update/*/SEV-1`
    /// or `status_update/stakeholders/SEV-1`.
    pub fn name(&self) -> String {
        let mut name = self.kind.as_str().to_owned();
        match (&self.audience, &self.severity) {
            (Some(audience), severity) => {
                name.push('/');
                name.push_str(audience.as_str());
                if let Some(severity) = severity {
                    name.push('/');
                    name.push_str(severity);
                }
            }
            (None, Some(severity)) => {
                name.push_str("/*/");
                name.push_str(severity);
            }
            (None, None) => {}
        }
        name
    }

    fn matches(&self, kind: MessageKind, audience: AudienceClass, severity: &str) -> bool {
        self.kind == kind
            && self.audience.is_none_or(|a| a == audience)
            && self
                .severity
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case(severity))
    }

    /// 3 for kind+audience+severity, 2 for kind+audience, 1 for kind+severity, 0 for kind.
    fn specificity(&self) -> u8 {
        2 * u8::from(self.audience.is_some()) + u8::from(self.severity.is_some())
    }

    fn same_key(&self, other: &TemplateDef) -> bool {
        self.kind == other.kind
            && self.audience == other.audience
            && match (&self.severity, &other.severity) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (a, b) => a.is_none() && b.is_none(),
            }
    }

    fn parts(&self) -> impl Iterator<Item = (TemplatePart, &str)> {
        [
            Some((TemplatePart::Subject, self.subject.as_str())),
            Some((TemplatePart::Text, self.text.as_str())),
            self.html.as_deref().map(|html| (TemplatePart::Html, html)),
        ]
        .into_iter()
        .flatten()
    }
}

/// Which part of a [`TemplateDef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplatePart {
    Subject,
    Text,
    Html,
}

impl TemplatePart {
    /// The key in the playbook: `subject`, `text` or `html`.
    pub fn as_str(self) -> &'static str {
        match self {
            TemplatePart::Subject => "subject",
            TemplatePart::Text => "text",
            TemplatePart::Html => "html",
        }
    }
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One line.
    pub subject: String,
    pub text: String,
    /// When the template has an HTML body.
    pub html: Option<String>,
}

/// A template that does not compile, uses a variable that is not in
/// [`MessageContext`], or fails to render the sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The template and part, e.g. `status_update/stakeholders/SEV-1 text`.
    pub template: String,
    /// The position of the definition in the list given to
    /// [`Templates::with_overrides`]; `None` for a built-in one.
    pub index: Option<usize>,
    /// `None` when the error is about the whole definition.
    pub part: Option<TemplatePart>,
    /// The line within the template, from 1.
    pub line: Option<usize>,
    /// `unknown variable incident.titel (did you mean incident.title?)`.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}: line {line}: {}", self.template, self.message),
            None => write!(f, "{}: {}", self.template, self.message),
        }
    }
}

impl std::error::Error for TemplateError {}

/// The compiled templates of a playbook: the built-in ones, and the
/// playbook's own, which win over them.
///
/// To render a message, the most specific of the playbook's templates that
/// matches is used (kind+audience+severity, then kind+audience, then
/// kind+severity, then kind); when none of them matches, the most specific
/// built-in one. There is a built-in template for every kind and audience.
#[derive(Clone)]
pub struct Templates {
    env: Arc<Environment<'static>>,
    /// The playbook's own templates, in the order written.
    overrides: Vec<TemplateDef>,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.overrides.iter().map(TemplateDef::name).collect();
        f.debug_struct("Templates")
            .field("overrides", &names)
            .finish_non_exhaustive()
    }
}

impl Default for Templates {
    fn default() -> Templates {
        Templates::builtin()
    }
}

/// The name under which a built-in part is compiled; never clashes with a
/// playbook's (`status_update text`), which starts with a kind.
fn builtin_name(def: &TemplateDef, part: TemplatePart) -> String {
    format!("builtin {} {}", def.name(), part.as_str())
}

fn override_name(def: &TemplateDef, part: TemplatePart) -> String {
    format!("{} {}", def.name(), part.as_str())
}

fn builtin_defs() -> &'static [TemplateDef] {
    static DEFS: OnceLock<Vec<TemplateDef>> = OnceLock::new();
    DEFS.get_or_init(builtin::defs)
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(" html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env
}

impl Templates {
    /// The built-in templates alone.
    pub fn builtin() -> Templates {
        static BUILTIN: OnceLock<Templates> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Templates::compile(Vec::new())
                    .unwrap_or_else(|e| panic!("a built-in template is invalid: {e}"))
            })
            .clone()
    }

    /// The built-in templates with the playbook's `defs` on top. Each def
    /// is checked; two defs for the same kind, audience and severity are an error.
    pub fn with_overrides(defs: Vec<TemplateDef>) -> Result<Templates, TemplateError> {
        for (i, def) in defs.iter().enumerate() {
            if let Some(first) = defs[..i].iter().position(|d| d.same_key(def)) {
                return Err(TemplateError {
                    template: def.name(),
                    index: Some(i),
                    part: None,
                    line: None,
                    message: format!(
                        "templates[{first}] is already for this kind, audience and severity"
                    ),
                });
            }
        }
        Templates::compile(defs)
    }

    fn compile(overrides: Vec<TemplateDef>) -> Result<Templates, TemplateError> {
        let mut env = environment();
        // Real messages: an attribute of a none value is empty, not an error.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        let builtins = builtin_defs().iter().map(|d| (None, d));
        let customs = overrides.iter().enumerate().map(|(i, d)| (Some(i), d));
        for (index, def) in builtins.chain(customs) {
            for (part, source) in def.parts() {
                let name = match index {
                    None => builtin_name(def, part),
                    Some(_) => override_name(def, part),
                };
                let error = |line, message| TemplateError {
                    template: name.strip_prefix("builtin ").unwrap_or(&name).to_owned(),
                    index,
                    part: Some(part),
                    line,
                    message,
                };
                if source.trim().is_empty() && part != TemplatePart::Html {
                    return Err(error(None, "must not be empty".to_owned()));
                }
                check(&name, source).map_err(|(line, message)| error(line, message))?;
                env.add_template_owned(name.clone(), source.to_owned())
                    .map_err(|e| error(e.line(), describe(&e)))?;
            }
        }
        Ok(Templates {
            env: Arc::new(env),
            overrides,
        })
    }

    /// The playbook's own templates, as written.
    pub fn overrides(&self) -> &[TemplateDef] {
        &self.overrides
    }

    /// The template a message of `kind` to `audience` about an incident of
    /// `severity` is written with (see [`Templates`] for the order).
    pub fn select(
        &self,
        kind: MessageKind,
        audience: AudienceClass,
        severity: &str,
    ) -> Option<&TemplateDef> {
        self.choose(kind, audience, severity).map(|(def, _)| def)
    }

    /// The template, and whether it is a built-in one.
    fn choose(
        &self,
        kind: MessageKind,
        audience: AudienceClass,
        severity: &str,
    ) -> Option<(&TemplateDef, bool)> {
        fn best<'d>(
            defs: &'d [TemplateDef],
            kind: MessageKind,
            audience: AudienceClass,
            severity: &str,
        ) -> Option<&'d TemplateDef> {
            defs.iter()
                .filter(|d| d.matches(kind, audience, severity))
                .max_by_key(|d| d.specificity())
        }
        best(&self.overrides, kind, audience, severity)
            .map(|d| (d, false))
            .or_else(|| best(builtin_defs(), kind, audience, severity).map(|d| (d, true)))
    }

    /// Renders the message of `kind` to `audience` about an incident of
    /// `severity`; the error names the template and line.
    pub fn render(
        &self,
        kind: MessageKind,
        audience: AudienceClass,
        severity: &str,
        ctx: &MessageContext,
    ) -> Result<Rendered, String> {
        let (def, builtin) = self
            .choose(kind, audience, severity)
            .ok_or_else(|| format!("no template for {} to {}", kind.as_str(), audience.as_str()))?;
        let render = |part: TemplatePart| -> Result<String, String> {
            let name = if builtin {
                builtin_name(def, part)
            } else {
                override_name(def, part)
            };
            self.env
                .get_template(&name)
                .and_then(|t| t.render(ctx))
                .map_err(|e| match e.line() {
                    Some(line) => format!("{name}: line {line}: {}", describe(&e)),
                    None => format!("{name}: {}", describe(&e)),
                })
        };
        let subject = render(TemplatePart::Subject)?;
        Ok(Rendered {
            subject: one_line(&subject),
            text: render(TemplatePart::Text)?,
            html: match def.html {
                Some(_) => Some(render(TemplatePart::Html)?),
                None => None,
            },
        })
    }
}

/// Joins the lines of a subject with single spaces. A lone carriage return
/// breaks a line too (`str::lines` keeps it): a mail header must not hold one.
fn one_line(subject: &str) -> String {
    subject
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What went wrong, without minijinja's "(in template:line)".
fn describe(e: &minijinja::Error) -> String {
    let kind = match e.kind() {
        ErrorKind::UndefinedError => "undefined value".to_owned(),
        kind => kind.to_string(),
    };
    match e.detail() {
        Some(detail) => format!("{kind}: {detail}"),
        None => kind,
    }
}

/// Checks one template: it compiles, uses only known variables, and renders
/// the full sample in strict mode. The error is (line, message).
fn check(name: &str, source: &str) -> Result<(), (Option<usize>, String)> {
    let mut env = environment();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.add_template_owned(name.to_owned(), source.to_owned())
        .map_err(|e| (e.line(), describe(&e)))?;
    let template = env
        .get_template(name)
        .map_err(|e| (e.line(), describe(&e)))?;
    let mut unknown: Vec<(Option<usize>, String)> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|v| !context::is_known(v))
        .map(|v| (locate(source, &v), v))
        .collect();
    // The first one written (an unlocated one last), then by name.
    unknown.sort_by_key(|(line, v)| (line.is_none(), *line, v.clone()));
    let sample = MessageContext::full_sample();
    let rendered = template.render(&sample);
    if let Some((line, variable)) = unknown.into_iter().next() {
        let line = line.or_else(|| rendered.as_ref().err().and_then(|e| e.line()));
        let hint = context::suggestion(&variable)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Err((line, format!("unknown variable {variable}{hint}")));
    }
    rendered.map(|_| ()).map_err(|e| (e.line(), describe(&e)))
}

/// The line (from 1) of the first `{{ }}` or `{% %}` tag that uses the
/// variable `dotted` (or, failing that, its last name after a dot).
fn locate(source: &str, dotted: &str) -> Option<usize> {
    let last = dotted.rsplit('.').next().filter(|l| *l != dotted);
    let in_tags = |needle: &str, after_dot: bool| -> Option<usize> {
        let mut from = 0;
        while let Some(open) = find_tag_open(&source[from..]).map(|o| from + o) {
            let close_pattern = if source[open..].starts_with("{{") {
                "}}"
            } else {
                "%}"
            };
            let end = source[open + 2..]
                .find(close_pattern)
                .map_or(source.len(), |e| open + 2 + e);
            if let Some(at) = find_word(&source[open..end], needle, after_dot) {
                return Some(source[..open + at].matches('\n').count() + 1);
            }
            from = end;
        }
        None
    };
    in_tags(dotted, false).or_else(|| last.and_then(|l| in_tags(l, true)))
}

fn find_tag_open(text: &str) -> Option<usize> {
    match (text.find("{{"), text.find("{%")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Where `needle` is written in `text` as a whole name: not part of a longer
/// name; preceded by a dot when `after_dot`, else not.
fn find_word(text: &str, needle: &str, after_dot: bool) -> Option<usize> {
    let is_name = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(needle).map(|(at, _)| at).find(|&at| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        let before_ok = match before {
            Some('.') => after_dot,
            Some(c) => !after_dot && !is_name(c),
            None => !after_dot,
        };
        before_ok && !after.is_some_and(is_name)
    })
}
