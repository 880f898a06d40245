//! The versioned wire types of the sync protocol (push, pull, auth, devices, coach access): the only serde
//! boundary between the desktop and the server.
