//! HMAC on the bare compression functions, for the cracker's inner loop.
//!
//! `Hmac<D>` from RustCrypto is correct and general, but per candidate it buffers,
//! pads and copies; at millions of candidates a second that overhead is most of the
//! cost. Here everything that does not depend on the candidate key is prepared once
//! per cookie: the signed message and the salt, each already padded as the data
//! following a one-block key pad, and the fixed length fields of the outer block. A
//! candidate then costs only compression-function calls: for Flask's default
//! (`hmac` derivation, SHA-1) that is 2 (key pads) + 1 (salt) + 1 (outer) to derive
//! the signing key, and 2 + ⌈(len(message) + 9) / 64⌉ + 1 to sign: 9 calls for a
//! typical 80-byte session. The `sha1`/`sha2` crates pick SHA-NI or AVX2 at run time.

use sha1::Digest;

/// A Merkle–Damgård hash reduced to what HMAC needs.
pub(crate) trait BlockHash {
    type State: Copy;
    type Block: Copy + AsRef<[u8]> + AsMut<[u8]>;
    /// Digest length in bytes.
    const OUT: usize;
    /// Bytes of the length field at the end of the padding (8 or 16).
    const LEN_BYTES: usize;
    const IV: Self::State;
    fn zero_block() -> Self::Block;
    fn compress(state: &mut Self::State, blocks: &[Self::Block]);
    /// Writes the first `OUT` bytes of the state, big-endian, into `out`.
    fn write_out(state: &Self::State, out: &mut [u8]);
    /// The full hash of `data`, into `out[..OUT]` (for keys longer than a block and
    /// the `concat` derivations; not on the hot path).
    fn digest_into(parts: &[&[u8]], out: &mut [u8]);
    fn block_len() -> usize {
        Self::zero_block().as_ref().len()
    }
}

macro_rules! block_hash {
    ($name:ident, $crate_hash:ty, $word:ty, $words:literal, $block:literal, $out:literal, $len_bytes:literal, $compress:path, $iv:expr) => {
        pub(crate) struct $name;
        impl BlockHash for $name {
            type State = [$word; 8];
            type Block = [u8; $block];
            const OUT: usize = $out;
            const LEN_BYTES: usize = $len_bytes;
            const IV: Self::State = $iv;
            fn zero_block() -> Self::Block {
                [0u8; $block]
            }
            fn compress(state: &mut Self::State, blocks: &[Self::Block]) {
                let words: &mut [$word; $words] = (&mut state[..$words])
                    .try_into()
                    .expect("state holds the hash's words");
                $compress(words, blocks);
            }
            fn write_out(state: &Self::State, out: &mut [u8]) {
                const W: usize = std::mem::size_of::<$word>();
                for (chunk, word) in out[..$out].chunks_mut(W).zip(state.iter()) {
                    chunk.copy_from_slice(&word.to_be_bytes()[..chunk.len()]);
                }
            }
            fn digest_into(parts: &[&[u8]], out: &mut [u8]) {
                let mut hasher = <$crate_hash>::new();
                for part in parts {
                    hasher.update(part);
                }
                out[..$out].copy_from_slice(&hasher.finalize());
            }
        }
    };
}

// Initial hash values from FIPS 180-4 §5.3 (the crates keep theirs private; the
// tests below compare every engine with the crates' own digests).
block_hash!(
    Sha1,
    sha1::Sha1,
    u32,
    5,
    64,
    20,
    8,
    sha1::block_api::compress,
    [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0, 0, 0, 0]
);
block_hash!(
    Sha224,
    sha2::Sha224,
    u32,
    8,
    64,
    28,
    8,
    sha2::block_api::compress256,
    [
        0xc1059ed8, 0x367cd507, 0x3070dd17, 0xf70e5939, 0xffc00b31, 0x68581511, 0x64f98fa7,
        0xbefa4fa4
    ]
);
block_hash!(
    Sha256,
    sha2::Sha256,
    u32,
    8,
    64,
    32,
    8,
    sha2::block_api::compress256,
    [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19
    ]
);
block_hash!(
    Sha384,
    sha2::Sha384,
    u64,
    8,
    128,
    48,
    16,
    sha2::block_api::compress512,
    [
        0xcbbb9d5dc1059ed8,
        0x629a292a367cd507,
        0x9159015a3070dd17,
        0x152fecd8f70e5939,
        0x67332667ffc00b31,
        0x8eb44a8768581511,
        0xdb0c2e0d64f98fa7,
        0x47b5481dbefa4fa4,
    ]
);
block_hash!(
    Sha512,
    sha2::Sha512,
    u64,
    8,
    128,
    64,
    16,
    sha2::block_api::compress512,
    [
        0x6a09e667f3bcc908,
        0xbb67ae8584caa73b,
        0x3c6ef372fe94f82b,
        0xa54ff53a5f1d36f1,
        0x510e527fade682d1,
        0x9b05688c2b3e6c1f,
        0x1f83d9abfb41bd6b,
        0x5be0cd19137e2179,
    ]
);

/// `data` padded as the tail of a message that starts with one full block (the HMAC
/// key pad): the blocks to compress after the pad.
pub(crate) fn pad_after_one_block<H: BlockHash>(data: &[u8]) -> Vec<H::Block> {
    let block = H::block_len();
    let total_bits = ((block + data.len()) as u128) * 8;
    let mut bytes = data.to_vec();
    bytes.push(0x80);
    while !(bytes.len() + H::LEN_BYTES).is_multiple_of(block) {
        bytes.push(0);
    }
    bytes.extend_from_slice(&total_bits.to_be_bytes()[16 - H::LEN_BYTES..]);
    bytes
        .chunks(block)
        .map(|chunk| {
            let mut b = H::zero_block();
            b.as_mut().copy_from_slice(chunk);
            b
        })
        .collect()
}

/// The states after compressing the inner and outer key pads.
#[derive(Clone, Copy)]
pub(crate) struct KeyedPads<H: BlockHash> {
    inner: H::State,
    outer: H::State,
}

impl<H: BlockHash> KeyedPads<H> {
    pub(crate) fn new(key: &[u8]) -> KeyedPads<H> {
        let mut ipad = H::zero_block();
        if key.len() > H::block_len() {
            H::digest_into(&[key], ipad.as_mut());
        } else {
            ipad.as_mut()[..key.len()].copy_from_slice(key);
        }
        let mut opad = ipad;
        ipad.as_mut().iter_mut().for_each(|b| *b ^= 0x36);
        opad.as_mut().iter_mut().for_each(|b| *b ^= 0x5c);
        let mut inner = H::IV;
        H::compress(&mut inner, &[ipad]);
        let mut outer = H::IV;
        H::compress(&mut outer, &[opad]);
        KeyedPads { inner, outer }
    }

    /// HMAC of the message whose padded tail is `padded` (from
    /// [`pad_after_one_block`]); writes `H::OUT` bytes into `out`.
    pub(crate) fn mac(&self, padded: &[H::Block], out: &mut [u8]) {
        let mut inner = self.inner;
        H::compress(&mut inner, padded);
        let mut last = H::zero_block();
        let bytes = last.as_mut();
        H::write_out(&inner, bytes);
        bytes[H::OUT] = 0x80;
        let total_bits = ((H::block_len() + H::OUT) as u128) * 8;
        let n = bytes.len();
        bytes[n - H::LEN_BYTES..].copy_from_slice(&total_bits.to_be_bytes()[16 - H::LEN_BYTES..]);
        let mut outer = self.outer;
        H::compress(&mut outer, &[last]);
        H::write_out(&outer, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signer::{signature, DigestAlgorithm, KeyDerivation, SignerParams};

    /// The `hmac` crate's HMAC: the `none` derivation uses the key as is.
    fn reference(digest: DigestAlgorithm, key: &[u8], msg: &[u8]) -> Vec<u8> {
        signature(
            msg,
            key,
            &SignerParams::new("", KeyDerivation::None, digest),
        )
    }

    fn engine<H: BlockHash>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; H::OUT];
        KeyedPads::<H>::new(key).mac(&pad_after_one_block::<H>(msg), &mut out);
        out
    }

    #[test]
    fn matches_the_hmac_crate_at_every_boundary() {
        let long_key = [0xabu8; 200];
        let keys: [&[u8]; 5] = [b"", b"k", &[7u8; 64], &[9u8; 128], &long_key];
        for key in keys {
            for len in [
                0usize, 1, 55, 56, 63, 64, 65, 111, 112, 119, 127, 128, 129, 300,
            ] {
                let msg: Vec<u8> = (0..len).map(|i| i as u8).collect();
                assert_eq!(
                    engine::<Sha1>(key, &msg),
                    reference(DigestAlgorithm::Sha1, key, &msg),
                    "sha1 {len}"
                );
                assert_eq!(
                    engine::<Sha224>(key, &msg),
                    reference(DigestAlgorithm::Sha224, key, &msg),
                    "sha224 {len}"
                );
                assert_eq!(
                    engine::<Sha256>(key, &msg),
                    reference(DigestAlgorithm::Sha256, key, &msg),
                    "sha256 {len}"
                );
                assert_eq!(
                    engine::<Sha384>(key, &msg),
                    reference(DigestAlgorithm::Sha384, key, &msg),
                    "sha384 {len}"
                );
                assert_eq!(
                    engine::<Sha512>(key, &msg),
                    reference(DigestAlgorithm::Sha512, key, &msg),
                    "sha512 {len}"
                );
            }
        }
    }
}
