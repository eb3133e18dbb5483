package dev.petal.common.checkpoint;

import java.util.HashMap;
import java.util.Map;

/** Python's names for pickle opcodes (protocols 0-5), so that a refused opcode is named in the error. */
final class PickleOpcodes {
    private static final Map<Integer, String> NAMES = new HashMap<>();

    static {
        String[] ascii = {
            "(MARK", ".STOP", "0POP", "1POP_MARK", "2DUP", "FFLOAT", "IINT", "JBININT", "KBININT1", "LLONG",
            "MBININT2", "NNONE", "PPERSID", "QBINPERSID", "RREDUCE", "SSTRING", "TBINSTRING", "USHORT_BINSTRING",
            "VUNICODE", "XBINUNICODE", "aAPPEND", "bBUILD", "cGLOBAL", "dDICT", "}EMPTY_DICT", "eAPPENDS", "gGET",
            "hBINGET", "iINST", "jLONG_BINGET", "lLIST", "]EMPTY_LIST", "oOBJ", "pPUT", "qBINPUT", "rLONG_BINPUT",
            "sSETITEM", "tTUPLE", ")EMPTY_TUPLE", "uSETITEMS", "GBINFLOAT", "BBINBYTES", "CSHORT_BINBYTES"};
        for (String entry : ascii) {
            NAMES.put((int) entry.charAt(0), entry.substring(1));
        }
        String[] high = {
            "PROTO", "NEWOBJ", "EXT1", "EXT2", "EXT4", "TUPLE1", "TUPLE2", "TUPLE3", "NEWTRUE", "NEWFALSE", "LONG1",
            "LONG4", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES8", "EMPTY_SET", "ADDITEMS", "FROZENSET", "NEWOBJ_EX",
            "STACK_GLOBAL", "MEMOIZE", "FRAME", "BYTEARRAY8", "NEXT_BUFFER", "READONLY_BUFFER"};
        for (int i = 0; i < high.length; i++) {
            NAMES.put(0x80 + i, high[i]);
        }
    }

    private PickleOpcodes() {}

    /** {@code 0x81 (NEWOBJ)}, or {@code 0xff (not a pickle opcode)}. */
    static String describe(int opcode) {
        return String.format("0x%02x (%s)", opcode, NAMES.getOrDefault(opcode, "not a pickle opcode"));
    }
}
