//! Integers, `bool`, `char` and types that print themselves are tags without an impl; a float
//! wrapped in a type that prints itself follows the advice of the float-tag error.

use std::fmt;
use std::str::FromStr;

use influx_series::{Client, Series};

#[derive(Debug, PartialEq)]
struct Load(f64);

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}", self.0)
    }
}

impl FromStr for Load {
    type Err = std::num::ParseFloatError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Load)
    }
}

#[derive(Series, Debug)]
#[series(name = "cpu.{core}")]
struct Cpu {
    #[series(tag)]
    core: u16,
    #[series(tag)]
    offset: i64,
    #[series(tag)]
    spare: bool,
    #[series(tag)]
    grade: char,
    #[series(tag, display)]
    load: Load,
    #[series(tag, display)]
    previous: Option<Load>,
    usage: f64,
    #[series(time)]
    at: i64,
}

fn main() {
    let mut out = Vec::new();
    Cpu {
        core: 3,
        offset: -1,
        spare: true,
        grade: 'b',
        load: Load(0.25),
        previous: None,
        usage: 0.5,
        at: 7,
    }
    .write_line(&mut out)
    .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "cpu.3,core=3,grade=b,load=0.2,offset=-1,spare=true usage=0.5 7"
    );
    // Every member reads back.
    fn read(client: &Client) -> Vec<Cpu> {
        client.query_as("SELECT * FROM cpu").unwrap_or_default()
    }
    let _ = read;
}
