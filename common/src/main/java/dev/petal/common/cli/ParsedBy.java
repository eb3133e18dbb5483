package dev.petal.common.cli;

import dev.petal.common.image.Normalization;
import dev.petal.common.model.Architecture;
import dev.petal.common.model.Precision;
import dev.petal.common.model.Stem;
import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Option values parsed by the type's own {@code parse}, whose error (which lists the valid values)
 * picocli then reports as a usage error, exit code 2.
 */
public abstract class ParsedBy<T> implements ITypeConverter<T> {
    private final Function<String, T> parse;

    protected ParsedBy(Function<String, T> parse) {
        this.parse = parse;
    }

    @Override
    public T convert(String value) {
        try {
            return parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }

    public static final class ArchitectureName extends ParsedBy<Architecture> {
        public ArchitectureName() {
            super(Architecture::parse);
        }
    }

    public static final class StemName extends ParsedBy<Stem> {
        public StemName() {
            super(Stem::parse);
        }
    }

    public static final class NormalizationName extends ParsedBy<Normalization> {
        public NormalizationName() {
            super(Normalization::parse);
        }
    }

    public static final class PrecisionName extends ParsedBy<Precision> {
        public PrecisionName() {
            super(Precision::parse);
        }
    }
}
