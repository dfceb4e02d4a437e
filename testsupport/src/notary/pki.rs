//! Ready-made code-signing chains with notation's required profile.

use super::cert::{CertSpec, TestCert};
use super::keys::KeyKind;

/// A root, intermediates (root side first) and a code-signing leaf.
#[derive(Debug, Clone)]
pub struct TestPki {
    pub root: TestCert,
    /// `intermediates[0]` is issued by the root, the last one issues the leaf.
    pub intermediates: Vec<TestCert>,
    pub leaf: TestCert,
}

impl TestPki {
    /// Root → `intermediates` CAs → leaf, all RSA-2048. Leaf: keyUsage
    /// digitalSignature (critical), extendedKeyUsage codeSigning; CAs:
    /// basicConstraints cA (critical), keyUsage keyCertSign + cRLSign
    /// (critical). Subjects are `… O=Notary, CN=Pullgate Test Root` /
    /// `Intermediate <n>` / `Signer`.
    pub fn code_signing_chain(intermediates: usize) -> TestPki {
        TestPki::code_signing_chain_with(KeyKind::Rsa2048, intermediates)
    }

    /// As [`TestPki::code_signing_chain`], with a leaf key of `leaf_key`
    /// (the CAs stay RSA-2048, in slots 1, 2, …; the leaf uses slot 0).
    pub fn code_signing_chain_with(leaf_key: KeyKind, intermediates: usize) -> TestPki {
        TestPki::build(
            CertSpec::leaf("Pullgate Test Signer").with_key(leaf_key, 0),
            intermediates,
        )
    }

    /// Root → `intermediates` CAs → a leaf made from `leaf` (any spec, e.g.
    /// an expired or wrongly-profiled one).
    pub fn build(leaf: CertSpec, intermediates: usize) -> TestPki {
        let root = TestCert::issue(CertSpec::ca("Pullgate Test Root"), None);
        let mut cas: Vec<TestCert> = Vec::with_capacity(intermediates);
        for n in 1..=intermediates {
            let spec = CertSpec::ca(&format!("Pullgate Test Intermediate {n}"))
                .with_key(KeyKind::Rsa2048, n + 1);
            let issuer = cas.last().unwrap_or(&root);
            let ca = TestCert::issue(spec, Some(issuer));
            cas.push(ca);
        }
        let leaf = TestCert::issue(leaf, Some(cas.last().unwrap_or(&root)));
        TestPki {
            root,
            intermediates: cas,
            leaf,
        }
    }

    /// The chain as notation puts it in `x5c` / `x5chain`: leaf first, root last.
    pub fn chain(&self) -> Vec<&TestCert> {
        let mut chain = vec![&self.leaf];
        chain.extend(self.intermediates.iter().rev());
        chain.push(&self.root);
        chain
    }
}
