/*
 * bcryptprimitives.dll for the Wine smoke test only (never shipped).
 *
 * Rust's standard library (1.78 and later) imports ProcessPrng from bcryptprimitives.dll for
 * its random numbers (HashMap keys, among others), and the getrandom crate does the same.
 * Windows 10 and later have it; Debian 12's Wine 8 has no such export, so without this file
 * every Rust .exe fails to load under that Wine. `cargo xtask test` builds it with mingw next
 * to the CLI's .exe (the application's folder is searched first) and tells Wine to prefer it.
 *
 * ProcessPrng fills the buffer with random bytes and always returns TRUE on Windows; here it
 * forwards to RtlGenRandom (advapi32's SystemFunction036, which Wine implements), in chunks
 * because that takes a 32-bit length, and returns FALSE if it ever fails.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
