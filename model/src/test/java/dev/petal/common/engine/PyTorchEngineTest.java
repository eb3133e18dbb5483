package dev.petal.common.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PyTorchEngineTest {

    @Test
    void bf16IsFlaggedOnlyOnCpusWithoutBf16Instructions() {
        String plain = "flags\t\t: fpu vme sse2 avx2 avx512f avx512bw avx512_vnni";
        assertTrue(PyTorchEngine.bf16Caveat(plain).orElseThrow().contains("neither AVX-512 BF16 nor AMX"));
        assertEquals(Optional.empty(), PyTorchEngine.bf16Caveat(plain + " avx512_bf16"));
        assertEquals(Optional.empty(), PyTorchEngine.bf16Caveat(plain + " amx_tile amx_bf16 amx_int8"));
        // A prefix of a flag is not the flag.
        assertTrue(PyTorchEngine.bf16Caveat("flags : avx512_bf16x").isPresent());
        assertEquals(Optional.empty(), PyTorchEngine.bf16Caveat(Device.gpu()));
    }
}
