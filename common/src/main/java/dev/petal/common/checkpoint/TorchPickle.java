package dev.petal.common.checkpoint;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads the pickle of a torch.save archive ({@code data.pkl}) without Python's unpickler: a small stack
 * machine for the opcodes a state_dict uses, building plain Java values. Nothing the file says is
 * imported, looked up by reflection or run. Globals are matched against a fixed allow-list (OrderedDict,
 * torch's tensor rebuild functions, the storage classes) and "called" by code here; any other global or
 * opcode ends the read with an error that names it.
 *
 * <p>Values: str is a String, int a Long, float a Double, bool a Boolean, None null, list an ArrayList,
 * tuple a {@link Tuple}, dict and OrderedDict a LinkedHashMap, a tensor a {@link TensorRef}.
 */
final class TorchPickle {
    /** A Python tuple, kept apart from lists so that argument shapes can be checked. */
    record Tuple(List<Object> items) {
        Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }
    }

    /** A storage the pickle points at by persistent id: {@code <archive>/data/<key>}, {@code elements} values. */
    record StorageRef(TorchDtype dtype, String key, long elements) {}

    /** A tensor as {@code _rebuild_tensor_v2} describes it: a view of {@code shape} into a storage. */
    record TensorRef(StorageRef storage, long offset, long[] shape, long[] stride) {}

    /** The callables a state_dict names. Storage classes resolve to {@link TorchDtype} instead. */
    private enum Callable {
        ORDERED_DICT("collections", "OrderedDict"),
        REBUILD_TENSOR_V2("torch._utils", "_rebuild_tensor_v2"),
        REBUILD_PARAMETER("torch._utils", "_rebuild_parameter");

        final String module;
        final String name;

        Callable(String module, String name) {
            this.module = module;
            this.name = name;
        }
    }

    private static final String ONLY_TENSORS = "only tensors and OrderedDict are read";
    private static final int MAX_GLOBAL_NAME = 256;
    private static final int MAX_DIMENSIONS = 64;
    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_]{1,64}");

    private final byte[] data;
    private final String source;
    private int position;
    private int opcodeAt;
    private final List<Object> stack = new ArrayList<>();
    /** Stack heights at each open MARK, as Python's metastack. */
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private final Map<String, StorageRef> storages = new HashMap<>();

    private TorchPickle(byte[] data, String source) {
        this.data = data;
        this.source = source;
    }

    /**
     * The object {@code pickle} describes.
     *
     * @param source the file, for messages
     * @throws CheckpointIntegrityException for an opcode or global outside the allow-list, or a malformed pickle
     */
    static Object load(byte[] pickle, String source) {
        return new TorchPickle(pickle, source).run();
    }

    private Object run() {
        while (position < data.length) {
            opcodeAt = position;
            int opcode = readUnsignedByte();
            switch (opcode) {
                case 0x80 -> { // PROTO
                    int protocol = readUnsignedByte();
                    if (protocol < 2 || protocol > 5) {
                        throw malformed("pickle protocol " + protocol);
                    }
                }
                case 0x95 -> { // FRAME: a length hint for buffered reading, nothing to do here
                    long frame = readLongLittleEndian(8);
                    if (frame < 0 || frame > data.length - position) {
                        throw malformed("a frame of " + frame + " bytes");
                    }
                }
                case '.' -> { // STOP
                    return pop();
                }
                case '(' -> marks.add(stack.size()); // MARK
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case 'd' -> push(dictOf(popMark())); // DICT
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 't' -> push(new Tuple(popMark())); // TUPLE
                case 0x85 -> push(new Tuple(popItems(1))); // TUPLE1
                case 0x86 -> push(new Tuple(popItems(2))); // TUPLE2
                case 0x87 -> push(new Tuple(popItems(3))); // TUPLE3
                case 'a' -> { // APPEND
                    Object value = pop();
                    listOnTop().add(value);
                }
                case 'e' -> { // APPENDS
                    List<Object> values = popMark();
                    listOnTop().addAll(values);
                }
                case 's' -> { // SETITEM
                    Object value = pop();
                    Object key = pop();
                    dictOnTop().put(key, value);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    dictOnTop().putAll(dictOf(items));
                }
                case 'X' -> push(readString(readIntLittleEndian())); // BINUNICODE
                case 0x8c -> push(readString(readUnsignedByte())); // SHORT_BINUNICODE
                case 'J' -> push((long) readIntLittleEndian()); // BININT
                case 'K' -> push((long) readUnsignedByte()); // BININT1
                case 'M' -> push(readLongLittleEndian(2)); // BININT2
                case 0x8a -> push(readLong1()); // LONG1
                case 'N' -> push(null); // NONE
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'G' -> push(Double.longBitsToDouble(readLongBigEndian())); // BINFLOAT
                case 'q' -> memo.put((long) readUnsignedByte(), peek()); // BINPUT
                case 'r' -> memo.put(readLongLittleEndian(4), peek()); // LONG_BINPUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 'h' -> push(memoized(readUnsignedByte())); // BINGET
                case 'j' -> push(memoized(readLongLittleEndian(4))); // LONG_BINGET
                case 'c' -> { // GLOBAL
                    String module = readLine();
                    String name = readLine();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw malformed("STACK_GLOBAL without a module and a name");
                    }
                    push(global(m, n));
                }
                case 'Q' -> push(storage(pop())); // BINPERSID
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    push(call(callable, args));
                }
                case 'b' -> build(); // BUILD
                default -> throw new CheckpointIntegrityException("refusing " + source + ": the pickle uses opcode "
                        + PickleOpcodes.describe(opcode) + " at byte " + opcodeAt + ", which a state_dict never does; "
                        + ONLY_TENSORS);
            }
        }
        throw malformed("no STOP opcode");
    }

    private Object global(String module, String name) {
        for (Callable c : Callable.values()) {
            if (c.module.equals(module) && c.name.equals(name)) {
                return c;
            }
        }
        if (module.equals("torch")) {
            TorchDtype dtype = TorchDtype.ofStorageClass(name);
            if (dtype != null) {
                return dtype;
            }
        }
        throw refusedCall(module + "." + name);
    }

    private CheckpointIntegrityException refusedCall(String qualifiedName) {
        return new CheckpointIntegrityException("refusing " + source + ": the pickle calls " + qualifiedName
                + ", which a state_dict never does; " + ONLY_TENSORS);
    }

    private Object call(Object callable, Object args) {
        if (callable instanceof TorchDtype dtype) {
            throw refusedCall("torch." + dtype.storageClass());
        }
        if (!(callable instanceof Callable c)) {
            throw malformed("REDUCE of " + typeName(callable) + ", which is not callable");
        }
        if (!(args instanceof Tuple tuple)) {
            throw malformed("REDUCE with " + typeName(args) + " as arguments");
        }
        List<Object> a = tuple.items();
        return switch (c) {
            case ORDERED_DICT -> {
                if (!a.isEmpty()) {
                    throw malformed("OrderedDict called with arguments");
                }
                yield new LinkedHashMap<>();
            }
            case REBUILD_TENSOR_V2 -> rebuildTensor(a);
            case REBUILD_PARAMETER -> { // (data, requires_grad, backward_hooks): the parameter's tensor
                if (a.size() != 3 || !(a.get(0) instanceof TensorRef tensor) || !(a.get(1) instanceof Boolean)
                        || !(a.get(2) instanceof Map<?, ?>)) {
                    throw malformed("_rebuild_parameter with arguments " + typeNames(a));
                }
                yield tensor;
            }
        };
    }

    /** {@code (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private TensorRef rebuildTensor(List<Object> a) {
        if (a.size() < 6 || a.size() > 7 || !(a.get(0) instanceof StorageRef storage) || !(a.get(1) instanceof Long offset)
                || !(a.get(2) instanceof Tuple size) || !(a.get(3) instanceof Tuple stride) || !(a.get(4) instanceof Boolean)
                || !(a.get(5) instanceof Map<?, ?>) || (a.size() == 7 && a.get(6) != null && !(a.get(6) instanceof Map<?, ?>))) {
            throw malformed("_rebuild_tensor_v2 with arguments " + typeNames(a));
        }
        long[] shape = longs(size, "size");
        long[] strides = longs(stride, "stride");
        if (offset < 0 || shape.length != strides.length) {
            throw malformed("a tensor with offset " + offset + ", " + shape.length + " sizes and " + strides.length + " strides");
        }
        return new TensorRef(storage, offset, shape, strides);
    }

    private long[] longs(Tuple tuple, String what) {
        List<Object> items = tuple.items();
        if (items.size() > MAX_DIMENSIONS) {
            throw malformed("a tensor " + what + " of " + items.size() + " dimensions");
        }
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(items.get(i) instanceof Long value) || value < 0) {
                throw malformed("a tensor " + what + " of " + items);
            }
            out[i] = value;
        }
        return out;
    }

    /** A persistent id: {@code ('storage', torch.<Type>Storage, key, location, elements)}. */
    private StorageRef storage(Object pid) {
        if (!(pid instanceof Tuple tuple) || tuple.items().size() != 5 || !"storage".equals(tuple.items().get(0))
                || !(tuple.items().get(1) instanceof TorchDtype dtype) || !(tuple.items().get(2) instanceof String key)
                || !(tuple.items().get(3) instanceof String) || !(tuple.items().get(4) instanceof Long elements)) {
            throw malformed("a persistent id that is not a storage: " + (pid instanceof Tuple t ? typeNames(t.items()) : typeName(pid)));
        }
        if (!STORAGE_KEY.matcher(key).matches() || elements < 0) {
            throw malformed("a storage named '" + key + "' of " + elements + " elements");
        }
        StorageRef ref = new StorageRef(dtype, key, elements);
        StorageRef seen = storages.putIfAbsent(key, ref);
        if (seen != null && !seen.equals(ref)) {
            throw malformed("storage " + key + " described twice, as " + seen + " and " + ref);
        }
        return ref;
    }

    /** BUILD on an OrderedDict sets attributes (a state_dict's {@code _metadata}), which Petal does not need. */
    private void build() {
        Object state = pop();
        Object target = peek();
        if (!(target instanceof Map<?, ?>) || (state != null && !(state instanceof Map<?, ?>))) {
            throw new CheckpointIntegrityException("refusing " + source + ": the pickle sets the state of a "
                    + typeName(target) + " at byte " + opcodeAt + ", which a state_dict never does; " + ONLY_TENSORS);
        }
    }

    private Map<Object, Object> dictOf(List<Object> items) {
        if (items.size() % 2 != 0) {
            throw malformed("a dict of " + items.size() + " keys and values");
        }
        Map<Object, Object> dict = new LinkedHashMap<>();
        for (int i = 0; i < items.size(); i += 2) {
            dict.put(items.get(i), items.get(i + 1));
        }
        return dict;
    }

    @SuppressWarnings("unchecked")
    private List<Object> listOnTop() {
        if (!(peek() instanceof ArrayList<?> list)) {
            throw malformed("APPEND to " + typeName(peek()));
        }
        return (List<Object>) list;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dictOnTop() {
        if (!(peek() instanceof LinkedHashMap<?, ?> map)) {
            throw malformed("SETITEM on " + typeName(peek()));
        }
        return (Map<Object, Object>) map;
    }

    private Object memoized(long index) {
        if (!memo.containsKey(index)) {
            throw malformed("memo entry " + index + " read before it was written");
        }
        return memo.get(index);
    }

    private void push(Object value) {
        stack.add(value);
    }

    /** The bottom of the current MARK frame: a pop may not reach below it. */
    private int floor() {
        return marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
    }

    private Object pop() {
        if (stack.size() <= floor()) {
            throw malformed("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.size() <= floor()) {
            throw malformed("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popItems(int count) {
        if (stack.size() - floor() < count) {
            throw malformed("stack underflow");
        }
        List<Object> top = stack.subList(stack.size() - count, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw malformed("no MARK to close");
        }
        int at = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(at, stack.size());
        List<Object> items = new ArrayList<>(top);
        top.clear();
        return items;
    }

    private int readUnsignedByte() {
        require(1);
        return data[position++] & 0xFF;
    }

    private int readIntLittleEndian() {
        return (int) readLongLittleEndian(4);
    }

    /** An unsigned little-endian integer of {@code bytes} bytes (4 stays unsigned; 8 is taken as is). */
    private long readLongLittleEndian(int bytes) {
        require(bytes);
        long value = 0;
        for (int i = bytes - 1; i >= 0; i--) {
            value = (value << 8) | (data[position + i] & 0xFF);
        }
        position += bytes;
        return value;
    }

    private long readLongBigEndian() {
        require(8);
        long value = 0;
        for (int i = 0; i < 8; i++) {
            value = (value << 8) | (data[position + i] & 0xFF);
        }
        position += 8;
        return value;
    }

    /** LONG1: a length byte, then a little-endian two's complement integer; Petal needs at most 64 bits. */
    private long readLong1() {
        int length = readUnsignedByte();
        if (length > 8) {
            throw malformed("an integer of " + length + " bytes");
        }
        if (length == 0) {
            return 0;
        }
        long value = readLongLittleEndian(length);
        int unused = 64 - 8 * length;
        return (value << unused) >> unused; // sign-extend
    }

    private String readString(long length) {
        if (length < 0 || length > data.length - position) {
            throw malformed("a string of " + (length & 0xFFFFFFFFL) + " bytes");
        }
        String s = new String(data, position, (int) length, StandardCharsets.UTF_8);
        position += (int) length;
        return s;
    }

    /** A GLOBAL operand: ASCII up to a newline. */
    private String readLine() {
        int start = position;
        while (position < data.length && data[position] != '\n') {
            if (position - start >= MAX_GLOBAL_NAME) {
                throw malformed("a global name longer than " + MAX_GLOBAL_NAME + " bytes");
            }
            position++;
        }
        require(1);
        String line = new String(data, start, position - start, StandardCharsets.US_ASCII);
        position++;
        return line;
    }

    private void require(int bytes) {
        if (data.length - position < bytes) {
            throw malformed("the pickle ends in the middle of an opcode");
        }
    }

    private CheckpointIntegrityException malformed(String what) {
        return new CheckpointIntegrityException(source + ": data.pkl is not a state_dict pickle: " + what
                + " at byte " + opcodeAt);
    }

    private static String typeNames(List<Object> values) {
        List<String> names = new ArrayList<>();
        for (Object v : values) {
            names.add(typeName(v));
        }
        return names.toString();
    }

    /** Python's name for the type of a value this reader builds, for messages. */
    static String typeName(Object value) {
        if (value == null) {
            return "None";
        } else if (value instanceof Callable c) {
            return c.module + "." + c.name;
        } else if (value instanceof TorchDtype d) {
            return "torch." + d.storageClass();
        } else if (value instanceof Map<?, ?>) {
            return "dict";
        } else if (value instanceof List<?>) {
            return "list";
        } else if (value instanceof Tuple) {
            return "tuple";
        } else if (value instanceof TensorRef) {
            return "tensor";
        } else if (value instanceof StorageRef) {
            return "storage";
        } else if (value instanceof String) {
            return "str";
        } else if (value instanceof Long) {
            return "int";
        } else if (value instanceof Double) {
            return "float";
        } else if (value instanceof Boolean) {
            return "bool";
        }
        return value.getClass().getSimpleName();
    }
}
