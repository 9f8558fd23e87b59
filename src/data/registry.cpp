#include <mutex>

#include "flowlab/data/cifar10.h"
#include "flowlab/data/dataset.h"
#include "flowlab/data/fashion_mnist.h"
#include "flowlab/data/gaussian_mixture.h"
#include "flowlab/data/image_folder.h"
#include "flowlab/data/npy_dataset.h"
#include "flowlab/data/manifold.h"
#include "flowlab/data/toy2d.h"

namespace flowlab::data {

Registry<Dataset>& dataset_registry() {
  static Registry<Dataset> registry("data");
  return registry;
}

void register_builtin_datasets() {
  {
    Registry<Dataset>& r = dataset_registry();
    r.add_component<Toy2d, Toy2dOptions>(
        "toy2d", "2-D toy sets: moons, circles, eight_gaussians, checkerboard, two_spirals, pinwheel, swiss_roll");
    r.add_component<GaussianMixture, GaussianMixtureOptions>(
        "gaussian_mixture", "Gaussian mixture in any dimension, with closed-form log-density and score");
    r.add_component<ManifoldDataset, ManifoldOptions>(
        "manifold", "data of known intrinsic dimension k isometrically embedded in R^D by a fixed random rotation: "
                    "k-spheres, k-dimensional subspaces, the swiss roll; optional noise");
    r.add_component<NpyDataset, NpyDatasetOptions>("npy", "samples from a NumPy .npy array [N, ...], with replacement");
    r.add_component<FashionMnist, FashionMnistOptions>(
        "fashion_mnist", "Fashion-MNIST 28x28 grey images with labels 0..9, from gzipped IDX files");
    r.add_component<Cifar10, Cifar10Options>(
        "cifar10", "CIFAR-10 32x32 RGB images with labels 0..9, from the binary version's files in a folder");
    r.add_component<ImageFolder, ImageFolderOptions>(
        "image_folder", "PNG/JPEG/BMP images from a folder, fitted to one size; labels from class sub-folders, "
                        "as torchvision's ImageFolder, or unlabelled");
  }
}

}  // namespace flowlab::data
