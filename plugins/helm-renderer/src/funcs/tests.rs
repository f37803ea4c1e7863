//! Function-level checks against Helm/Sprig behaviour noted from real runs.

use super::lookup;
use crate::value::Value;

fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    (lookup(name).expect(name).f)(args)
}

fn s(v: &str) -> Value {
    Value::str(v)
}

#[test]
fn split_returns_indexed_string_map() {
    let v = call("split", &[s(":"), s("minio:")]).unwrap();
    assert_eq!(v.to_go_string(), "map[_0:minio _1:]");
    assert_eq!(
        call("split", &[s(":"), s("")]).unwrap().to_go_string(),
        "map[_0:]"
    );
    assert_eq!(v.map_get("_5").unwrap().as_str(), Some(""));
}

#[test]
fn defaults_and_truthiness() {
    assert_eq!(
        call("default", &[s("D"), Value::Int(0)])
            .unwrap()
            .to_go_string(),
        "D"
    );
    assert_eq!(
        call("default", &[s("D"), s("0")]).unwrap().to_go_string(),
        "0"
    );
    assert_eq!(call("default", &[s("D")]).unwrap().to_go_string(), "D");
    assert!(call("required", &[s("msg"), s("")]).is_err());
    assert!(call("required", &[s("msg"), Value::Int(0)]).is_ok());
}

#[test]
fn indent_and_quote() {
    assert_eq!(
        call("indent", &[Value::Int(2), s("line1\n\nline3\n")])
            .unwrap()
            .to_go_string(),
        "  line1\n  \n  line3\n  "
    );
    assert_eq!(call("quote", &[Value::Nil]).unwrap().to_go_string(), "");
    assert_eq!(
        call("quote", &[Value::Float(1.5)]).unwrap().to_go_string(),
        "\"1.5\""
    );
    assert_eq!(
        call("toString", &[Value::Float(1e6)])
            .unwrap()
            .to_go_string(),
        "1e+06"
    );
}

#[test]
fn numbers_convert_like_cast() {
    assert_eq!(call("int", &[s("x")]).unwrap().to_go_string(), "0");
    assert_eq!(
        call("int", &[Value::Float(1.9)]).unwrap().to_go_string(),
        "1"
    );
    assert_eq!(
        call("add", &[Value::Int(1), Value::Float(2.9)])
            .unwrap()
            .to_go_string(),
        "3"
    );
}

#[test]
fn comparisons_follow_go() {
    assert!(
        call("eq", &[Value::Float(1.0), Value::Int(1)])
            .unwrap_err()
            .contains("incompatible types for comparison: float64 and int")
    );
    assert!(call("eq", &[Value::Nil, Value::Nil]).unwrap().is_true());
    assert!(!call("eq", &[Value::Nil, s("x")]).unwrap().is_true());
    assert!(call("eq", &[s("a"), s("b"), s("a")]).unwrap().is_true());
}

#[test]
fn json_escapes_html() {
    let mut m = crate::value::Map::new();
    m.insert("b".into(), s("<&>"));
    m.insert("a".into(), Value::Float(1e21));
    assert_eq!(
        call("toJson", &[Value::map(m.clone())])
            .unwrap()
            .to_go_string(),
        r#"{"a":1e+21,"b":"\u003c\u0026\u003e"}"#
    );
    assert_eq!(
        call("toRawJson", &[Value::map(m)]).unwrap().to_go_string(),
        r#"{"a":1e+21,"b":"<&>"}"#
    );
}

#[test]
fn every_helm_function_name_is_implemented() {
    for name in super::NAMES {
        assert!(super::find(name).is_some(), "{name} has no implementation");
    }
}
