// Placeholder so the vision library has a source until the image path lands.
namespace osprey::vision {}
