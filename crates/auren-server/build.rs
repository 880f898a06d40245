//! Rebuilds the crate when a server migration is added or changed: `sqlx::migrate!` embeds the directory's
//! files at compile time, and cargo would not otherwise notice a new file there.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/server");
}
