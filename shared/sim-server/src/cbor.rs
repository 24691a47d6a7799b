//! Just enough CBOR (RFC 8949) for Smithy RPC v2 CBOR, CloudWatch's wire
//! protocol, read and written as JSON values: a request becomes JSON (a
//! timestamp, tag 1, becomes its epoch seconds; byte strings are not read),
//! a JSON reply becomes CBOR. Used by the simulator server and the tests'
//! protocol stub.

use minicbor::Decoder;
use minicbor::data::Type;
use serde_json::{Map, Number, Value};

/// Reads one CBOR data item as JSON.
pub fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut d = Decoder::new(bytes);
    value(&mut d).map_err(|e| e.to_string())
}

fn value(d: &mut Decoder<'_>) -> Result<Value, minicbor::decode::Error> {
    Ok(match d.datatype()? {
        Type::Bool => Value::Bool(d.bool()?),
        Type::Null | Type::Undefined => {
            d.skip()?;
            Value::Null
        }
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Value::from(d.u64()?),
        Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => Value::from(d.i64()?),
        Type::F16 => float(f64::from(d.f16()?)),
        Type::F32 => float(f64::from(d.f32()?)),
        Type::F64 => float(d.f64()?),
        Type::String => Value::String(d.str()?.to_owned()),
        Type::StringIndef => {
            let mut text = String::new();
            for part in d.str_iter()? {
                text.push_str(part?);
            }
            Value::String(text)
        }
        Type::Array | Type::ArrayIndef => {
            let len = d.array()?;
            let mut items = Vec::new();
            while len.is_none_or(|n| (items.len() as u64) < n) {
                if len.is_none() && d.datatype()? == Type::Break {
                    d.skip()?;
                    break;
                }
                items.push(value(d)?);
            }
            Value::Array(items)
        }
        Type::Map | Type::MapIndef => {
            let len = d.map()?;
            let mut map = Map::new();
            while len.is_none_or(|n| (map.len() as u64) < n) {
                if len.is_none() && d.datatype()? == Type::Break {
                    d.skip()?;
                    break;
                }
                let key = d.str()?.to_owned();
                map.insert(key, value(d)?);
            }
            Value::Object(map)
        }
        Type::Tag => {
            d.tag()?;
            value(d)?
        }
        other => {
            return Err(minicbor::decode::Error::message(format!(
                "CBOR {other} is not read here"
            )));
        }
    })
}

fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Writes a JSON value as CBOR (integers as integers, other numbers as
/// 64-bit floats).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

fn head(major: u8, len: u64, out: &mut Vec<u8>) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=0xff => out.extend([major | 24, len as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((len as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((len as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(len.to_be_bytes());
        }
    }
}

fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => head(0, u, out),
            (None, Some(i)) => head(1, (-1 - i) as u64, out),
            _ => {
                out.push(0xfb);
                out.extend(n.as_f64().unwrap_or_default().to_be_bytes());
            }
        },
        Value::String(s) => {
            head(3, s.len() as u64, out);
            out.extend(s.as_bytes());
        }
        Value::Array(items) => {
            head(4, items.len() as u64, out);
            items.iter().for_each(|v| write(v, out));
        }
        Value::Object(map) => {
            head(5, map.len() as u64, out);
            for (k, v) in map {
                head(3, k.len() as u64, out);
                out.extend(k.as_bytes());
                write(v, out);
            }
        }
    }
}
