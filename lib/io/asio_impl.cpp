// The one translation unit that compiles Boost.Asio's implementation
// (BOOST_ASIO_SEPARATE_COMPILATION is set for the whole project and exported
// to users through strata_dep and strata.pc). Keeping it here means touching
// any other file never recompiles Asio.
#include <boost/asio/impl/src.hpp>
