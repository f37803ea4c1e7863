//! A Go `text/template` implementation with Go's error positions and texts.

mod ast;
mod exec;
mod lex;
mod parse;

pub use exec::{Budget, ExecEnv, ExecError, Limits, TemplateSet, execute};
pub use parse::{ParseError, parse_go_int};

#[cfg(test)]
mod tests;
