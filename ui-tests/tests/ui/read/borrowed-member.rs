use influx_series::{Client, Series};

// Writing borrowed members is fine; reading rows back into them is not.
#[derive(Series)]
struct Request<'a> {
    #[series(tag)]
    route: &'a str,
    micros: u32,
}

fn main() {
    let client = Client::new("http://127.0.0.1:8086").unwrap();
    let _rows: Vec<Request<'static>> = client.query_as("SELECT * FROM request").unwrap();
}
