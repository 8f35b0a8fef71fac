use std::fmt;

use influx_series::{Client, Series};

struct Rack(u16);

impl fmt::Display for Rack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rack-{}", self.0)
    }
}

// Writes fine: `Rack` prints itself.
#[derive(Series)]
struct Cpu {
    #[series(tag, display)]
    rack: Rack,
    usage: f64,
}

fn main() {
    let client = Client::new("http://127.0.0.1:8086").unwrap();
    // Reading back needs `FromStr`.
    let _rows: Vec<Cpu> = client.query_as("SELECT * FROM cpu").unwrap();
}
