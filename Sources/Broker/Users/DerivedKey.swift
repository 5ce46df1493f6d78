import BrokerCore
import Crypto
import Foundation

/// The keys the broker derives from `USER_ID_SECRET`, each through HKDF-SHA256 with a label of
/// its own, so that no use of one key tells anything of another.
///
/// A subject's MX user `id` is HMAC-SHA256(secret, subject) — existing MX users are found by it,
/// so it stays — and any caller can pick a subject and read its MX user id in a widget URL's
/// answer. A key made as HMAC-SHA256(secret, label) would therefore be the id of the subject
/// `label`; HKDF keys every derived key with a pseudorandom key extracted from the secret
/// instead, which no subject's id reveals.
enum DerivedKey: String, CaseIterable {
    /// Signs and verifies events tokens.
    case eventsTokens = "connect-broker events tokens v2"
    /// Hashes subjects for the logs.
    case logSubjects = "connect-broker log subjects v2"

    /// This purpose's key, 32 bytes derived from `secret`.
    func key(from secret: Secret) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: Data(secret.value.utf8)), info: Data(rawValue.utf8), outputByteCount: 32)
    }
}
