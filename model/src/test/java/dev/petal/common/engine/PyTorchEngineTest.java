package dev.petal.common.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dev.petal.common.model.Precision;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PyTorchEngineTest {

    @Test
    void bf16IsFlaggedOnlyOnCpusWithoutBf16Instructions() {
        String plain = "flags\t\t: fpu vme sse2 avx2 avx512f avx512bw avx512_vnni";
        assertTrue(PyTorchEngine.precisionCaveat(Precision.BF16, plain).orElseThrow().contains("neither AVX-512 BF16 nor AMX"));
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.BF16, plain + " avx512_bf16"));
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.BF16, plain + " amx_tile amx_bf16 amx_int8"));
        // A prefix of a flag is not the flag.
        assertTrue(PyTorchEngine.precisionCaveat(Precision.BF16, "flags : avx512_bf16x").isPresent());
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.BF16, Device.gpu()));
    }

    /** Int8's integer kernels want VNNI (AVX-512 or AVX) or AMX, and with AMX-BF16 bf16 may beat it; fp32 never gets a caveat. */
    @Test
    void int8IsFlaggedWithoutVnniOrAmxAndWhereBf16MayBeFaster() {
        String avx2 = "flags\t\t: fpu vme sse2 avx2 fma";
        assertTrue(PyTorchEngine.precisionCaveat(Precision.INT8, avx2).orElseThrow().contains("neither VNNI nor AMX"));
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.INT8, avx2 + " avx512f avx512_vnni"));
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.INT8, avx2 + " avx_vnni"));
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.INT8, avx2 + " amx_tile amx_int8"));
        // A Xeon with AMX: bf16 may be the faster of the two there (docs/performance.md), so int8 points at precision-check.
        String amx = avx2 + " avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8";
        assertTrue(PyTorchEngine.precisionCaveat(Precision.INT8, amx).orElseThrow().contains("bf16 can outrun int8"));
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.BF16, amx));
        assertEquals(Optional.empty(), PyTorchEngine.precisionCaveat(Precision.FP32, avx2));
    }
}
