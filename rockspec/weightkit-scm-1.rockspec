-- weightkit as a LuaRocks package: `luarocks --lua-version=5.4 make rockspec/weightkit-scm-1.rockspec`
-- builds the C module from the repository's sources (no download). HDF5 is found in Debian's
-- serial layout (/usr/include/hdf5/serial, libhdf5_serial); elsewhere pass HDF5_INCDIR and
-- HDF5_LIBDIR and adjust `header`/`library` below.
rockspec_format = "3.0"
package = "weightkit"
version = "scm-1"
source = { url = "git+file://." }
description = {
  summary = "Lua-scriptable toolkit for neural-network weights (Keras formats)",
  license = "MIT",
}
dependencies = { "lua >= 5.4, < 5.5" }
external_dependencies = {
  HDF5 = { header = "hdf5/serial/hdf5.h", library = "hdf5_serial" },
}
build = {
  type = "builtin",
  modules = {
    ["weightkit.core"] = {
      sources = {
        "src/lweightkit.c",
      },
      defines = { "_POSIX_C_SOURCE=200809L" },
      incdirs = { "src", "$(HDF5_INCDIR)/hdf5/serial" },
      libdirs = { "$(HDF5_LIBDIR)" },
      libraries = { "hdf5_serial", "m", "pthread" },
    },
  },
}
