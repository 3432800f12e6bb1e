package gptoss.runtime.cpu.kernel;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * One group of native kernels bound, or the reason the Java kernels run instead. Every binding class
 * ({@link NativeKernels}, {@link BatchKernels}, {@link GemmKernels}, {@link GgmlKernels}) takes the same steps,
 * here once: not switched off (e.g. {@code -Dgptoss.kernels=java}), 16 float lanes, the library present
 * ({@link NativeKernels#library()}), the library's own CPU check (a {@code *_lanes} function) saying 16, then each
 * function as a "critical" downcall (no thread-state transition, heap arrays passed directly).
 *
 * @param handles the bound functions by name, or null where the Java kernels run
 * @param status  which kernels run, for logs: {@code nativeName}, or {@code javaName (why)}
 */
record NativeBinding(Map<String, MethodHandle> handles, String status) {

    /**
     * Binds {@code functions} (name → descriptor) of the library, whose {@code lanesFunction} reports the float
     * lanes the CPU gives the kernels (16 with AVX-512, else 0). {@code off} is null, or why these kernels are
     * switched off (a system property); {@code javaName} names the fallback and {@code nativeName} the kernels in the
     * status.
     */
    static NativeBinding bind(String javaName, String nativeName, String off, String lanesFunction, Map<String, FunctionDescriptor> functions) {
        if (NativeKernels.javaChosen()) return java(javaName, NativeKernels.PROPERTY + "=java");
        if (off != null) return java(javaName, off);
        if (Lanes.L != 16) return java(javaName, Lanes.L + " float lanes; the native kernels need 16");
        try {
            SymbolLookup lib = NativeKernels.library();
            if (lib == null) return java(javaName, "no native library: the build had no C compiler");
            Linker linker = Linker.nativeLinker();
            int lanes = (int) linker.downcallHandle(lib.findOrThrow(lanesFunction), FunctionDescriptor.of(JAVA_INT)).invokeExact();
            if (lanes != Lanes.L) return java(javaName, "the native kernels need AVX-512");
            Linker.Option critical = Linker.Option.critical(true);
            Map<String, MethodHandle> handles = new LinkedHashMap<>();
            functions.forEach((name, descriptor) -> handles.put(name, linker.downcallHandle(lib.findOrThrow(name), descriptor, critical)));
            return new NativeBinding(Map.copyOf(handles), nativeName);
        } catch (Throwable e) {
            return java(javaName, "native library failed to load: " + e);
        }
    }

    private static NativeBinding java(String javaName, String why) {
        return new NativeBinding(null, javaName + " (" + why + ")");
    }

    boolean available() {
        return handles != null;
    }

    /** The bound function {@code name}, or null where the Java kernels run. */
    MethodHandle handle(String name) {
        return handles == null ? null : handles.get(name);
    }
}
