//! Message templates (minijinja), per kind and audience, overridable per
//! severity, with defaults that carry the seeds' templates. Implemented by
//! the templates helper.

/// The compiled templates of a playbook.
#[derive(Debug, Clone, Default)]
pub struct Templates {}
