use influx_series::{Client, FieldRef, FieldValue, Series};

struct Celsius(f64);

impl FieldValue for Celsius {
    fn field_ref(&self) -> FieldRef<'_> {
        FieldRef::Float(self.0)
    }
}

// `Celsius` can be written; without `FromCell` it cannot be read back.
#[derive(Series)]
struct Weather {
    temperature: Celsius,
}

fn main() {
    let client = Client::new("http://127.0.0.1:8086").unwrap();
    let _rows: Vec<Weather> = client.query_as("SELECT * FROM weather").unwrap();
}
