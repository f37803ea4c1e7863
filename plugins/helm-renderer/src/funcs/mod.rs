//! Template functions: Go builtins, Sprig v3.3.0 (minus `env`/`expandenv`)
//! and Helm's additions, grouped by family.
//!
//! Each function declares its Go parameter types so the executor can raise
//! Go's argument errors (`wrong type for value; expected string; got
//! interface {}`) before the body runs.

mod builtins;
mod convert;
mod crypto;
mod dates;
mod dicts;
pub(crate) mod encoding;
mod helm;
mod lists;
mod math;
mod nondeterministic;
pub(crate) mod paths;
mod regex;
mod semver;
mod strings;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::value::Value;

pub use convert::{to_float64, to_int64, to_string};

/// Go parameter types that matter for argument checking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// `interface{}` / `reflect.Value`: anything goes.
    Any,
    Str,
    Int,
    Float,
    Bool,
    List,
    Map,
    /// `uint32` (`derivePassword`'s counter).
    Uint32,
    /// Sprig's `certificate` struct (`genCA`'s result, `genSignedCert`'s CA).
    Cert,
    /// Go's `time.Time` (`dateModify`, `unixEpoch`).
    Time,
}

impl Param {
    pub fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str => "string",
            Param::Int => "int",
            Param::Float => "float64",
            Param::Bool => "bool",
            Param::List => "[]interface {}",
            Param::Map => "map[string]interface {}",
            Param::Uint32 => "uint32",
            Param::Cert => "sprig.certificate",
            Param::Time => "time.Time",
        }
    }
}

pub type FuncResult = Result<Value, String>;
pub type FuncImpl = fn(&[Value]) -> FuncResult;

#[derive(Clone, Copy)]
pub struct FuncDef {
    pub params: &'static [Param],
    /// Type of the trailing variadic parameter, if any.
    pub variadic: Option<Param>,
    pub f: FuncImpl,
}

/// Fixed-arity function.
pub const fn fixed(params: &'static [Param], f: FuncImpl) -> FuncDef {
    FuncDef {
        params,
        variadic: None,
        f,
    }
}

/// Function with a variadic tail.
pub const fn variadic(params: &'static [Param], tail: Param, f: FuncImpl) -> FuncDef {
    FuncDef {
        params,
        variadic: Some(tail),
        f,
    }
}

/// Every function name Helm v4.1.4 defines (Go builtins, Sprig minus
/// `env`/`expandenv`, Helm's own), except the executor-handled
/// `and`/`or`/`include`/`tpl`.
pub const NAMES: &[&str] = &[
    "abbrev",
    "abbrevboth",
    "add",
    "add1",
    "add1f",
    "addf",
    "adler32sum",
    "ago",
    "all",
    "any",
    "append",
    "atoi",
    "b32dec",
    "b32enc",
    "b64dec",
    "b64enc",
    "base",
    "bcrypt",
    "biggest",
    "buildCustomCert",
    "call",
    "camelcase",
    "cat",
    "ceil",
    "chunk",
    "clean",
    "coalesce",
    "compact",
    "concat",
    "contains",
    "date",
    "date_in_zone",
    "date_modify",
    "dateInZone",
    "dateModify",
    "decryptAES",
    "deepCopy",
    "deepEqual",
    "default",
    "derivePassword",
    "dict",
    "dig",
    "dir",
    "div",
    "divf",
    "duration",
    "durationRound",
    "empty",
    "encryptAES",
    "eq",
    "ext",
    "fail",
    "first",
    "float64",
    "floor",
    "fromJson",
    "fromJsonArray",
    "fromToml",
    "fromYaml",
    "fromYamlArray",
    "ge",
    "genCA",
    "genCAWithKey",
    "genPrivateKey",
    "genSelfSignedCert",
    "genSelfSignedCertWithKey",
    "genSignedCert",
    "genSignedCertWithKey",
    "get",
    "getHostByName",
    "gt",
    "has",
    "hasKey",
    "hasPrefix",
    "hasSuffix",
    "hello",
    "html",
    "htmlDate",
    "htmlDateInZone",
    "htpasswd",
    "indent",
    "index",
    "initial",
    "initials",
    "int",
    "int64",
    "isAbs",
    "join",
    "js",
    "kebabcase",
    "keys",
    "kindIs",
    "kindOf",
    "last",
    "le",
    "len",
    "list",
    "lookup",
    "lower",
    "lt",
    "max",
    "maxf",
    "merge",
    "mergeOverwrite",
    "min",
    "minf",
    "mod",
    "mul",
    "mulf",
    "must_date_modify",
    "mustAppend",
    "mustChunk",
    "mustCompact",
    "mustDateModify",
    "mustDeepCopy",
    "mustFirst",
    "mustFromJson",
    "mustHas",
    "mustInitial",
    "mustLast",
    "mustMerge",
    "mustMergeOverwrite",
    "mustPrepend",
    "mustPush",
    "mustRegexFind",
    "mustRegexFindAll",
    "mustRegexMatch",
    "mustRegexReplaceAll",
    "mustRegexReplaceAllLiteral",
    "mustRegexSplit",
    "mustRest",
    "mustReverse",
    "mustSlice",
    "mustToDate",
    "mustToJson",
    "mustToPrettyJson",
    "mustToRawJson",
    "mustToYaml",
    "mustUniq",
    "mustWithout",
    "ne",
    "nindent",
    "nospace",
    "not",
    "now",
    "omit",
    "osBase",
    "osClean",
    "osDir",
    "osExt",
    "osIsAbs",
    "pick",
    "pluck",
    "plural",
    "prepend",
    "print",
    "printf",
    "println",
    "push",
    "quote",
    "randAlpha",
    "randAlphaNum",
    "randAscii",
    "randBytes",
    "randInt",
    "randNumeric",
    "regexFind",
    "regexFindAll",
    "regexMatch",
    "regexQuoteMeta",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "regexSplit",
    "repeat",
    "replace",
    "required",
    "rest",
    "reverse",
    "round",
    "semver",
    "semverCompare",
    "seq",
    "set",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "shuffle",
    "slice",
    "snakecase",
    "sortAlpha",
    "split",
    "splitList",
    "splitn",
    "squote",
    "sub",
    "subf",
    "substr",
    "swapcase",
    "ternary",
    "title",
    "toDate",
    "toDecimal",
    "toJson",
    "toPrettyJson",
    "toRawJson",
    "toString",
    "toStrings",
    "toToml",
    "toYaml",
    "toYamlPretty",
    "trim",
    "trimAll",
    "trimall",
    "trimPrefix",
    "trimSuffix",
    "trunc",
    "tuple",
    "typeIs",
    "typeIsLike",
    "typeOf",
    "uniq",
    "unixEpoch",
    "unset",
    "until",
    "untilStep",
    "untitle",
    "upper",
    "urlJoin",
    "urlParse",
    "urlquery",
    "uuidv4",
    "values",
    "without",
    "wrap",
    "wrapWith",
];

fn table() -> &'static HashMap<&'static str, FuncDef> {
    static TABLE: OnceLock<HashMap<&'static str, FuncDef>> = OnceLock::new();
    TABLE.get_or_init(|| {
        NAMES
            .iter()
            .filter_map(|n| find(n).map(|f| (*n, f)))
            .collect()
    })
}

/// Finds a function by name.
pub fn lookup(name: &str) -> Option<FuncDef> {
    table().get(name).copied()
}

/// Resolves a name through the families (used once, to build the table).
fn find(name: &str) -> Option<FuncDef> {
    builtins::lookup(name)
        .or_else(|| helm::lookup(name))
        .or_else(|| strings::lookup(name))
        .or_else(|| lists::lookup(name))
        .or_else(|| dicts::lookup(name))
        .or_else(|| math::lookup(name))
        .or_else(|| encoding::lookup(name))
        .or_else(|| convert::lookup(name))
        .or_else(|| regex::lookup(name))
        .or_else(|| semver::lookup(name))
        .or_else(|| paths::lookup(name))
        .or_else(|| nondeterministic::lookup(name))
        .or_else(|| dates::lookup(name))
        .or_else(|| crypto::lookup(name))
}

/// Whether templates may name the function (checked at parse time, like Go).
/// `include`, `tpl`, `and` and `or` are handled by the executor itself.
pub fn exists(name: &str) -> bool {
    matches!(name, "include" | "tpl" | "and" | "or") || lookup(name).is_some()
}

/// Argument helpers shared by the families. Parameter types are validated
/// before the call, so these only unwrap.
pub(crate) fn s(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn int(args: &[Value], i: usize) -> i64 {
    match args.get(i) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    }
}

pub(crate) fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Nil)
}

#[cfg(test)]
mod tests;

pub use helm::{WARN_END, WARN_START};
pub use nondeterministic::begin_render;
pub use strings::is_go_space;
