//! The 1536-bit MODP group of RFC 3526 (group 5), in which OTR does its
//! Diffie-Hellman key exchanges and the Socialist Millionaires' Protocol.
//!
//! Two kinds of value live here, with different types:
//! - [`Element`]: a member of the group, `2 <= x <= p - 2` when it came from a
//!   peer. Elements derived from secrets (a DH shared secret, SMP's `g2`, `g3`)
//!   are zeroized on drop like every element.
//! - [`Exponent`]: an integer modulo `q = (p - 1) / 2`, usually secret. Every
//!   operation on an `Exponent` runs in constant time. An exponent becomes
//!   public only through [`Exponent::reveal`], and a peer's exponent enters only
//!   through [`Exponent::from_public_mpi`], which range-checks it.
//!
//! All arithmetic uses crypto-bigint's constant-time Montgomery forms with the
//! exponent length bounded by its public bit length (320 bits for DH, the bit
//! length of `q` for SMP), so the running time reveals nothing about a secret.

use std::fmt;
use std::sync::LazyLock;

use crypto_bigint::modular::{BoxedMontyForm, BoxedMontyParams, FixedMontyForm, FixedMontyParams};
use crypto_bigint::{BoxedUint, Limb, NonZero, Odd, RandomMod, U1536};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Size of the modulus in bytes: the largest MPI magnitude a group value has.
pub const MODULUS_BYTES: usize = 192;

/// Bits of a DH private key (the spec asks for at least 320).
pub const DH_EXPONENT_BITS: u32 = 320;

pub(crate) const P_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1",
    "29024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245",
    "E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D",
    "C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D",
    "670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
);

/// `q = (p - 1) / 2`, the prime order of the subgroup of quadratic residues,
/// which 2 generates.
const Q_HEX: &str = concat!(
    "7FFFFFFFFFFFFFFFE487ED5110B4611A62633145C06E0E68",
    "948127044533E63A0105DF531D89CD9128A5043CC71A026E",
    "F7CA8CD9E69D218D98158536F92F8A1BA7F09AB6B6A8E122",
    "F242DABB312F3F637A262174D31BF6B585FFAE5B7A035BF6",
    "F71C35FDAD44CFD2D74F9208BE258FF324943328F6722D9E",
    "E1003E5C50B1DF82CC6D241B0E2AE9CD348B1FD47E9267AF",
    "C1B2AE91EE51D6CB0E3179AB1042A95DCF6A9483B84B4B36",
    "B3861AA7255E4C0278BA36046511B993FFFFFFFFFFFFFFFF",
);

struct Group {
    p_minus_1: U1536,
    q: Odd<U1536>,
    p_params: FixedMontyParams<24>,
    p_boxed: BoxedMontyParams,
    q_params: FixedMontyParams<24>,
    q_bits: u32,
}

static GROUP: LazyLock<Group> = LazyLock::new(|| {
    let p = Odd::<U1536>::from_be_hex(P_HEX);
    let q = Odd::<U1536>::from_be_hex(Q_HEX);
    Group {
        p_minus_1: p.as_ref().wrapping_sub(&U1536::ONE),
        p_params: FixedMontyParams::new_vartime(p),
        p_boxed: BoxedMontyParams::new_vartime(Odd::<BoxedUint>::from(&p)),
        q_params: FixedMontyParams::new_vartime(q),
        q_bits: q.as_ref().bit_width_vartime(),
        q,
    }
});

/// A value that failed the range checks a received value must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RangeError {
    /// The MPI is longer than the modulus.
    TooLong,
    /// A group element outside `[2, p - 2]`.
    ElementOutOfRange,
    /// An exponent outside `[1, q - 1]`.
    ExponentOutOfRange,
}

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLong => "number longer than the 1536-bit modulus",
            Self::ElementOutOfRange => "group element outside [2, p-2]",
            Self::ExponentOutOfRange => "exponent outside [1, q-1]",
        })
    }
}

impl std::error::Error for RangeError {}

/// A member of the OTR Diffie-Hellman group, zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Element {
    value: U1536,
}

impl Element {
    /// The generator, 2.
    pub fn generator() -> Self {
        Self {
            value: U1536::from_u8(2),
        }
    }

    /// Reads a group element sent by a peer: the MPI magnitude must encode a
    /// value in `[2, p - 2]` (which rules out 0, 1 and -1, the degenerate
    /// values an attacker would send).
    pub fn from_mpi(magnitude: &[u8]) -> Result<Self, RangeError> {
        let value = uint_from_magnitude(magnitude)?;
        let group = &*GROUP;
        let too_small = value < U1536::from_u8(2);
        let too_large = value >= group.p_minus_1;
        if too_small || too_large {
            return Err(RangeError::ElementOutOfRange);
        }
        Ok(Self { value })
    }

    /// The minimal big-endian magnitude of this element, as written in an MPI.
    pub fn to_mpi(&self) -> Vec<u8> {
        minimal_magnitude(&self.value)
    }

    /// The minimal MPI magnitude, in a buffer zeroized on drop (for secrets).
    pub fn to_secret_mpi(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(minimal_magnitude(&self.value))
    }

    /// `g^e` for the generator `g = 2`, in constant time, with a fixed-base
    /// table of powers of 2 (1.2 MB, built once; constant-time lookups).
    pub fn g_pow(e: &Exponent) -> Self {
        Self {
            value: G_TABLE.pow(&e.value, e.bits).retrieve(),
        }
    }

    /// `g^d * x^c` for public exponents (a proof check of SMP): `g^d` from
    /// the fixed-base table, `x^c` by a variable-time exponentiation (short
    /// when `c` is a 256-bit hash).
    pub fn g_pow_public_times(d: &PublicExponent, x: &Self, c: &PublicExponent) -> Self {
        let g_d = G_TABLE.pow(&d.value, d.value.bit_width_vartime());
        let x_c = x.monty().pow_vartime(&c.value);
        Self {
            value: g_d.mul(&x_c).retrieve(),
        }
    }

    /// `self^e` in constant time, bounded by the exponent's public bit length.
    ///
    /// This uses crypto-bigint's heap-backed Montgomery form, whose
    /// exponentiation (almost-Montgomery multiplication and a dedicated
    /// squaring) is about 15-20% faster at this size than the fixed-size one.
    pub fn pow(&self, e: &Exponent) -> Self {
        let base = BoxedMontyForm::new(BoxedUint::from(&self.value), &GROUP.p_boxed);
        let mut exponent = BoxedUint::from(&e.value);
        let result = base.pow_bounded_exp(&exponent, e.bits).retrieve();
        exponent.zeroize();
        let mut limbs = [Limb::ZERO; 24];
        for (limb, value) in limbs.iter_mut().zip(result.as_limbs()) {
            *limb = *value;
        }
        Self {
            value: U1536::new(limbs),
        }
    }

    /// `self^e` for a public exponent (variable time).
    pub fn pow_public(&self, e: &PublicExponent) -> Self {
        let base = self.monty();
        Self {
            value: base.pow_vartime(&e.value).retrieve(),
        }
    }

    /// `a^x * b^y` for public exponents, as one simultaneous exponentiation.
    pub fn multi_pow_public(a: &Self, x: &PublicExponent, b: &Self, y: &PublicExponent) -> Self {
        use crypto_bigint::MultiExponentiateBoundedExp;
        let pairs = [(a.monty(), x.value), (b.monty(), y.value)];
        let bits = x.value.bit_width_vartime().max(y.value.bit_width_vartime());
        let result = FixedMontyForm::multi_exponentiate_bounded_exp(&pairs, bits);
        Self {
            value: result.retrieve(),
        }
    }

    /// `self * other mod p`.
    pub fn mul(&self, other: &Self) -> Self {
        Self {
            value: self.monty().mul(&other.monty()).retrieve(),
        }
    }

    /// `self^-1 mod p`. Elements are public where this is used, but inversion
    /// is done in constant time anyway.
    pub fn invert(&self) -> Self {
        let inverse = self.monty().invert();
        // Every element of [2, p-2] is invertible mod the prime p, so the
        // fallback (1) is never taken.
        let value = Option::<FixedMontyForm<24>>::from(inverse)
            .map(|v| v.retrieve())
            .unwrap_or(U1536::ONE);
        Self { value }
    }

    /// Numeric order of two public elements (which end of a DH pair is
    /// "high" decides the direction of the data keys).
    pub fn cmp_public(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }

    /// Constant-time equality, for comparisons involving secret-derived values.
    pub fn ct_eq(&self, other: &Self) -> bool {
        use crypto_bigint::CtEq;
        self.value.ct_eq(&other.value).to_bool()
    }

    fn monty(&self) -> FixedMontyForm<24> {
        FixedMontyForm::new(&self.value, &GROUP.p_params)
    }
}

/// Window width of the fixed-base table, in bits.
const WINDOW: usize = 4;
/// Windows needed for the widest exponent (1536 bits).
const WINDOWS: usize = MODULUS_BYTES * 8 / WINDOW;

/// A fixed-base exponentiation table for the generator: row `i` holds
/// `g^(j * 16^i)` for `j` in `0..16`, in Montgomery form. An exponentiation
/// is then one multiplication per 4-bit window of the exponent instead of a
/// squaring per bit, and each window's entry is read with a constant-time
/// scan of its whole row, so neither the time nor the memory access pattern
/// depends on the secret. The table takes 1.2 MB and is built once, lazily.
struct FixedBase {
    rows: Vec<[U1536; 1 << WINDOW]>,
}

static G_TABLE: LazyLock<FixedBase> = LazyLock::new(|| FixedBase::new(&Element::generator()));

impl FixedBase {
    fn new(base: &Element) -> Self {
        let params = &GROUP.p_params;
        let mut rows = Vec::with_capacity(WINDOWS);
        let mut row_base = base.monty();
        for _ in 0..WINDOWS {
            let mut row = [*FixedMontyForm::one(params).as_montgomery(); 1 << WINDOW];
            let mut power = FixedMontyForm::one(params);
            for entry in row.iter_mut().skip(1) {
                power = power.mul(&row_base);
                *entry = *power.as_montgomery();
            }
            rows.push(row);
            for _ in 0..WINDOW {
                row_base = row_base.square();
            }
        }
        Self { rows }
    }

    /// `base^e`, constant-time in `e` (bounded by the public bit length
    /// `bits`).
    fn pow(&self, e: &U1536, bits: u32) -> FixedMontyForm<24> {
        use crypto_bigint::{Choice, CtAssign};
        let params = &GROUP.p_params;
        let windows = (bits as usize).div_ceil(WINDOW).min(self.rows.len());
        let limbs = e.as_limbs();
        let mut acc = FixedMontyForm::one(params);
        for (i, row) in self.rows.iter().take(windows).enumerate() {
            let bit = i * WINDOW;
            let limb = limbs.get(bit / 64).map_or(0, |l| l.0);
            let digit = ((limb >> (bit % 64)) & ((1 << WINDOW) - 1)) as u8;
            let mut entry = U1536::ZERO;
            for (j, candidate) in row.iter().enumerate() {
                entry.ct_assign(candidate, Choice::from_u8_eq(digit, j as u8));
            }
            acc = acc.mul(&FixedMontyForm::from_montgomery(entry, params));
        }
        acc
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Element(..)")
    }
}

impl Zeroize for Element {
    fn zeroize(&mut self) {
        self.value.zeroize();
    }
}

impl Drop for Element {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Element {}

/// A secret integer modulo `q`, zeroized on drop; all its arithmetic is
/// constant-time.
#[derive(Clone)]
pub struct Exponent {
    value: U1536,
    /// Public upper bound on the bit length, which bounds the exponentiation.
    bits: u32,
}

impl Exponent {
    /// A fresh Diffie-Hellman private key of [`DH_EXPONENT_BITS`] random bits.
    pub fn random_dh<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; (DH_EXPONENT_BITS / 8) as usize]);
        rng.fill_bytes(bytes.as_mut());
        Self {
            value: uint_from_magnitude_unchecked(bytes.as_ref()),
            bits: DH_EXPONENT_BITS,
        }
    }

    /// A uniformly random exponent in `[1, q - 1]` (for SMP).
    pub fn random_mod_q<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let group = &*GROUP;
        let q_minus_1 = NonZero::new(group.q.as_ref().wrapping_sub(&U1536::ONE));
        let bound = Option::<NonZero<U1536>>::from(q_minus_1).unwrap_or(NonZero::<U1536>::ONE);
        let value = U1536::random_mod_vartime(rng, &bound).wrapping_add(&U1536::ONE);
        Self {
            value,
            bits: group.q_bits,
        }
    }

    /// An exponent from a big-endian byte string (a hash, the SMP secret).
    /// The value is reduced modulo `q`.
    pub fn from_secret_bytes(bytes: &[u8]) -> Self {
        let group = &*GROUP;
        let mut value = if bytes.len() <= MODULUS_BYTES {
            uint_from_magnitude_unchecked(bytes)
        } else {
            U1536::ZERO
        };
        value = value.rem(group.q.as_nz_ref());
        // The length of the input is public (a 256-bit hash for SMP's
        // secret), so it may bound the exponentiation.
        let input_bits = u32::try_from(bytes.len().saturating_mul(8)).unwrap_or(u32::MAX);
        Self {
            value,
            bits: group.q_bits.min(input_bits),
        }
    }

    /// Reads an exponent sent by a peer: it must be in `[1, q - 1]`.
    pub fn from_public_mpi(magnitude: &[u8]) -> Result<PublicExponent, RangeError> {
        let value = uint_from_magnitude(magnitude)?;
        if value == U1536::ZERO || &value >= GROUP.q.as_ref() {
            return Err(RangeError::ExponentOutOfRange);
        }
        Ok(PublicExponent { value })
    }

    /// Makes this exponent public, for a value the protocol sends in the clear
    /// (SMP's `D` values, `r - a*c mod q`, which are blinded by a random `r`).
    pub fn reveal(&self) -> PublicExponent {
        PublicExponent { value: self.value }
    }

    /// `self + other mod q`, constant-time.
    pub fn add(&self, other: &Self) -> Self {
        self.with_q(self.q_monty().add(&other.q_monty()))
    }

    /// `self - other mod q`, constant-time.
    pub fn sub(&self, other: &Self) -> Self {
        self.with_q(self.q_monty().sub(&other.q_monty()))
    }

    /// `self * other mod q`, constant-time.
    pub fn mul(&self, other: &Self) -> Self {
        self.with_q(self.q_monty().mul(&other.q_monty()))
    }

    /// `self * c mod q` for a public `c` (the hash in an SMP proof).
    pub fn mul_public(&self, c: &PublicExponent) -> Self {
        let c = FixedMontyForm::new(&c.value, &GROUP.q_params);
        self.with_q(self.q_monty().mul(&c))
    }

    fn q_monty(&self) -> FixedMontyForm<24> {
        FixedMontyForm::new(&self.value, &GROUP.q_params)
    }

    fn with_q(&self, form: FixedMontyForm<24>) -> Self {
        Self {
            value: form.retrieve(),
            bits: GROUP.q_bits,
        }
    }
}

#[cfg(feature = "hazmat")]
impl Exponent {
    /// The secret value as a minimal big-endian magnitude, for test vectors.
    pub fn to_bytes_for_testing_only(&self) -> Vec<u8> {
        minimal_magnitude(&self.value)
    }
}

impl fmt::Debug for Exponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Exponent(<secret>)")
    }
}

impl Zeroize for Exponent {
    fn zeroize(&mut self) {
        self.value.zeroize();
    }
}

impl Drop for Exponent {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Exponent {}

/// An exponent that is public: a hash in an SMP proof, or a `D` value.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicExponent {
    value: U1536,
}

impl PublicExponent {
    /// An exponent from a public big-endian hash value (SMP's `c`), taken as
    /// an integer (a SHA-256 value is below q).
    pub fn from_hash(bytes: &[u8; 32]) -> Self {
        Self {
            value: uint_from_magnitude_unchecked(bytes),
        }
    }

    /// The minimal MPI magnitude.
    pub fn to_mpi(&self) -> Vec<u8> {
        minimal_magnitude(&self.value)
    }

    /// Equality (public values, so variable time is fine).
    pub fn eq_vartime(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl fmt::Debug for PublicExponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PublicExponent(..)")
    }
}

fn uint_from_magnitude(magnitude: &[u8]) -> Result<U1536, RangeError> {
    let trimmed = trim_leading_zeros(magnitude);
    if trimmed.len() > MODULUS_BYTES {
        return Err(RangeError::TooLong);
    }
    Ok(uint_from_magnitude_unchecked(trimmed))
}

/// `bytes` must be at most [`MODULUS_BYTES`] long (checked by callers).
fn uint_from_magnitude_unchecked(bytes: &[u8]) -> U1536 {
    let mut padded = Zeroizing::new([0u8; MODULUS_BYTES]);
    let start = MODULUS_BYTES.saturating_sub(bytes.len());
    let take = bytes.len().min(MODULUS_BYTES);
    if let (Some(dst), Some(src)) = (padded.get_mut(start..), bytes.get(bytes.len() - take..)) {
        dst.copy_from_slice(src);
    }
    U1536::from_be_slice(padded.as_ref())
}

fn trim_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

fn minimal_magnitude(value: &U1536) -> Vec<u8> {
    let encoded = Zeroizing::new(value.to_be_bytes());
    trim_leading_zeros(encoded.as_ref()).to_vec()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(7)
    }

    #[test]
    fn q_is_half_of_p_minus_one() {
        let g = &*GROUP;
        assert_eq!(
            g.q.as_ref().shl_vartime(1).wrapping_add(&U1536::ONE),
            g.p_minus_1.wrapping_add(&U1536::ONE)
        );
        assert_eq!(g.p_params.modulus().as_ref(), &U1536::from_be_hex(P_HEX));
        assert_eq!(g.q_bits, 1535);
    }

    #[test]
    fn dh_agrees() {
        let mut rng = rng();
        let a = Exponent::random_dh(&mut rng);
        let b = Exponent::random_dh(&mut rng);
        let ga = Element::g_pow(&a);
        let gb = Element::g_pow(&b);
        assert!(ga.pow(&b).ct_eq(&gb.pow(&a)));
        assert_ne!(ga, gb);
    }

    #[test]
    fn small_exponent_matches_repeated_multiplication() {
        let e = Exponent::from_secret_bytes(&[5]);
        let g = Element::generator();
        assert_eq!(Element::g_pow(&e).to_mpi(), vec![32]);
        let mut acc = g.clone();
        for _ in 0..4 {
            acc = acc.mul(&g);
        }
        assert_eq!(acc.to_mpi(), vec![32]);
    }

    #[test]
    fn range_checks_reject_degenerate_values() {
        assert_eq!(Element::from_mpi(&[]), Err(RangeError::ElementOutOfRange));
        assert_eq!(Element::from_mpi(&[1]), Err(RangeError::ElementOutOfRange));
        assert_eq!(
            Element::from_mpi(&[0, 0, 1]),
            Err(RangeError::ElementOutOfRange)
        );
        assert!(Element::from_mpi(&[2]).is_ok());
        let p = GROUP.p_params.modulus().as_ref().to_be_bytes();
        assert_eq!(
            Element::from_mpi(p.as_ref()),
            Err(RangeError::ElementOutOfRange)
        );
        let p_minus_1 = GROUP.p_minus_1.to_be_bytes();
        assert_eq!(
            Element::from_mpi(p_minus_1.as_ref()),
            Err(RangeError::ElementOutOfRange)
        );
        let p_minus_2 = GROUP.p_minus_1.wrapping_sub(&U1536::ONE).to_be_bytes();
        assert!(Element::from_mpi(p_minus_2.as_ref()).is_ok());
        assert_eq!(Element::from_mpi(&[1; 193]), Err(RangeError::TooLong));
        // Leading zeros do not make a valid value too long.
        let mut padded = vec![0u8; 10];
        padded.extend_from_slice(p_minus_2.as_ref());
        assert!(Element::from_mpi(&padded).is_ok());
    }

    #[test]
    fn exponent_range_checks() {
        assert!(Exponent::from_public_mpi(&[]).is_err());
        assert!(Exponent::from_public_mpi(&[1]).is_ok());
        let q = GROUP.q.as_ref().to_be_bytes();
        assert!(Exponent::from_public_mpi(q.as_ref()).is_err());
    }

    #[test]
    fn exponent_arithmetic_is_consistent_with_the_group() {
        // g^(a*b) == (g^a)^b and g^(a+b) == g^a * g^b, for g of order q.
        let mut rng = rng();
        let g = Element::generator().mul(&Element::generator()); // 4 = 2^2, a residue
        let a = Exponent::random_mod_q(&mut rng);
        let b = Exponent::random_mod_q(&mut rng);
        assert_eq!(g.pow(&a.mul(&b)), g.pow(&a).pow(&b));
        assert_eq!(g.pow(&a.add(&b)), g.pow(&a).mul(&g.pow(&b)));
        assert_eq!(g.pow(&a.sub(&b)).mul(&g.pow(&b)), g.pow(&a));
        let c = b.reveal();
        assert_eq!(g.pow(&a.mul_public(&c)), g.pow(&a).pow_public(&c));
    }

    #[test]
    fn multi_pow_matches_two_pows() {
        let mut rng = rng();
        let a = Element::g_pow(&Exponent::random_dh(&mut rng));
        let b = Element::g_pow(&Exponent::random_dh(&mut rng));
        let x = Exponent::random_mod_q(&mut rng).reveal();
        let y = Exponent::random_mod_q(&mut rng).reveal();
        let expected = a.pow_public(&x).mul(&b.pow_public(&y));
        assert_eq!(Element::multi_pow_public(&a, &x, &b, &y), expected);
    }

    #[test]
    fn fixed_base_table_matches_plain_exponentiation() {
        let mut rng = rng();
        for e in [
            Exponent::from_secret_bytes(&[0]),
            Exponent::from_secret_bytes(&[1]),
            Exponent::from_secret_bytes(&[0xff; 40]),
            Exponent::random_dh(&mut rng),
            Exponent::random_mod_q(&mut rng),
            Exponent::random_mod_q(&mut rng),
        ] {
            assert_eq!(Element::g_pow(&e), Element::generator().pow(&e));
        }
    }

    #[test]
    fn generator_proof_check_matches_plain_arithmetic() {
        let mut rng = rng();
        let x = Element::g_pow(&Exponent::random_dh(&mut rng));
        let d = Exponent::random_mod_q(&mut rng).reveal();
        let c = PublicExponent::from_hash(&[0xa5; 32]);
        let expected = Element::generator().pow_public(&d).mul(&x.pow_public(&c));
        assert_eq!(Element::g_pow_public_times(&d, &x, &c), expected);
        assert_eq!(
            Element::multi_pow_public(&Element::generator(), &d, &x, &c),
            expected
        );
    }

    #[test]
    fn inverse() {
        let mut rng = rng();
        let a = Element::g_pow(&Exponent::random_dh(&mut rng));
        assert_eq!(a.mul(&a.invert()).to_mpi(), vec![1]);
    }

    #[test]
    fn minimal_mpi() {
        let e = Element::from_mpi(&[0, 0, 0x12, 0x34]).unwrap();
        assert_eq!(e.to_mpi(), vec![0x12, 0x34]);
    }

    #[test]
    fn debug_hides_values() {
        let mut rng = rng();
        let e = Exponent::random_dh(&mut rng);
        assert_eq!(format!("{e:?}"), "Exponent(<secret>)");
        assert_eq!(format!("{:?}", Element::g_pow(&e)), "Element(..)");
    }
}
