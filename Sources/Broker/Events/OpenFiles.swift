#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit, and what of it event streams may take.
///
/// Every open stream holds a socket for as long as it lasts; if streams could take every file
/// descriptor, the broker could accept no other request, its health checks included. Streams
/// therefore stop short of the limit by a reserve: a tenth of it, and at least 64.
enum OpenFiles {
    /// The soft `RLIMIT_NOFILE`, or 1024 when it cannot be read.
    static var limit: Int {
        var limits = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limits) == 0 else { return 1024 }
        return Int(clamping: min(limits.rlim_cur, rlim_t(Int.max / 2)))
    }

    /// The descriptors kept back from streams.
    static func reserve(of limit: Int) -> Int {
        max(64, limit / 10)
    }

    /// How many streams may be open at once.
    static var streamBudget: Int {
        let limit = limit
        return max(1, limit - reserve(of: limit))
    }
}
