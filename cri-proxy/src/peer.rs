//! Who is on the other end of a connection: `SO_PEERCRED`, read once when it is accepted.

use tokio::net::UnixStream;

/// The credentials of the process that connected (as the kernel recorded them at `connect(2)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer {
    /// Effective uid.
    pub uid: u32,
    /// Effective gid.
    pub gid: u32,
    /// Process id, when the kernel reports one.
    pub pid: Option<i32>,
}

impl Peer {
    /// Reads the peer credentials of an accepted connection.
    pub fn of(stream: &UnixStream) -> std::io::Result<Peer> {
        let cred = stream.peer_cred()?;
        Ok(Peer {
            uid: cred.uid(),
            gid: cred.gid(),
            pid: cred.pid(),
        })
    }
}

/// The uids allowed to connect.
#[derive(Debug, Clone)]
pub(crate) struct PeerCheck {
    allowed_uids: Vec<u32>,
}

impl PeerCheck {
    pub(crate) fn new(allowed_uids: &[u32]) -> PeerCheck {
        PeerCheck {
            allowed_uids: allowed_uids.to_vec(),
        }
    }

    pub(crate) fn allows(&self, peer: &Peer) -> bool {
        self.allowed_uids.contains(&peer.uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn reads_our_own_credentials_from_a_socket_pair() {
        let (a, _b) = UnixStream::pair().unwrap();
        let peer = Peer::of(&a).unwrap();
        assert_eq!(peer.pid, Some(i32::try_from(std::process::id()).unwrap()));
        let check = PeerCheck::new(&[peer.uid]);
        assert!(check.allows(&peer));
        assert!(!PeerCheck::new(&[peer.uid.wrapping_add(1)]).allows(&peer));
    }
}
